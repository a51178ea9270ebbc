// The RSS figure of `bench -- growth`, in a process of its own (forked by bench/growth.ts with an IPC
// channel and --expose-gc) on a database of its own, so that nothing the other figures left in the heap
// counts here. N external conversations of M messages each are written by COPY (their topics opened in
// the stand-in), every runner's checkpoint is moved past them (the read models are not built for them:
// at 5 000 × 1 000 that would be 10 M events to project), then the app starts and gets one POST on each
// conversation (API_WRITE_WAIT_MS=0: answered 202 at once), which leaves every one of them in the
// command handler's cache (5 000 by default).
// Memory is read after a full GC before and after: RSS and the V8 heap in use. The process also holds
// the stand-in (its call log is cleared before each reading) and the bench's own few objects.

import { startTelegramStandIn } from '../test/support/telegram-stand-in.ts';
import { growthEnv, openTopic, progress, registerSource, SOURCE } from './growth.ts';
import { caughtUp, copyHistory, type HistorySpec, historyOf, skipToHead } from './growth-history.ts';
import { httpLoad, startBenchApp } from './http.ts';
import { startBenchDatabase } from './support.ts';

export interface RssInput {
  readonly conversations: number;
  readonly messages: number;
}

export interface Memory {
  readonly rss: number;
  readonly heap: number;
}

export interface RssOutput extends RssInput {
  readonly events: number;
  readonly loadMs: number;
  readonly populateMs: number;
  readonly before: Memory;
  readonly after: Memory;
  readonly maxRss: number;
  readonly statuses: Record<string, number>;
}

const send = process.send?.bind(process);
if (!send) throw new Error('bench/growth-rss.ts is started by bench/growth.ts (npm run bench -- growth)');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('bench/growth-rss.ts needs --expose-gc');
const input = JSON.parse(process.argv[2] ?? '{}') as RssInput;

const memory = async (): Promise<Memory> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
};

const db = await startBenchDatabase(8);
const tg = await startTelegramStandIn();
// The read models are not built for these conversations, so a POST's row would never show up in
// them: answer at once (202) instead of waiting API_WRITE_WAIT_MS for it.
const env = { ...growthEnv(tg), API_WRITE_WAIT_MS: '0' };
let app = await startBenchApp(db, env);
try {
  const auth = await registerSource(app, db);
  const specs: HistorySpec[] = [];
  for (let i = 0; i < input.conversations; i++)
    specs.push({
      channel: 'external',
      source: SOURCE,
      clientId: `cached-${i}`,
      profile: {},
      topicId: await openTopic(tg, `cached-${i} · ${SOURCE}`),
      supportChatId: String(tg.supportChatId),
      messages: input.messages,
      seed: 10_000 + i,
    });
  await app.stop();

  const t0 = performance.now();
  function* all() {
    for (const spec of specs) yield* historyOf(spec);
  }
  const events = await copyHistory(db, all(), {
    chunk: 200_000,
    onChunk: (n) => progress(`  ${n.toLocaleString('en-US')} events written`),
  });
  await skipToHead(db, ['telegram', 'webhooks'], true);
  const loadMs = performance.now() - t0;
  progress(`  ${events.toLocaleString('en-US')} events in ${(loadMs / 1000).toFixed(1)} s; VACUUM (ANALYZE)`);
  await db.pool.query('VACUUM (ANALYZE)');

  app = await startBenchApp(db, env);
  // A warm-up on a conversation of its own: connections, the token, JIT.
  const warm = await httpLoad(app.address(), {
    connections: 1,
    amount: 20,
    request: (i) => ({
      method: 'POST',
      path: `/api/external/warm-${i}/messages`,
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ text: `warm-up ${i}` }),
    }),
  });
  if ((warm.statuses.get(201) ?? 0) + (warm.statuses.get(202) ?? 0) !== 20) throw new Error('warm-up failed');
  await caughtUp(db, 600_000);
  tg.clearCalls();
  const before = await memory();
  progress(
    `  before: RSS ${(before.rss / 2 ** 20).toFixed(0)} MiB, heap ${(before.heap / 2 ** 20).toFixed(0)} MiB`,
  );

  const p0 = performance.now();
  const load = await httpLoad(app.address(), {
    connections: 8,
    amount: input.conversations,
    timeoutS: 600,
    request: (i) => ({
      method: 'POST',
      path: `/api/external/cached-${i}/messages`,
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ text: `one more question, number ${i}` }),
    }),
  });
  await caughtUp(db, 3_600_000, progress, 100);
  const populateMs = performance.now() - p0;
  tg.clearCalls();
  const after = await memory();
  progress(
    `  after: RSS ${(after.rss / 2 ** 20).toFixed(0)} MiB, heap ${(after.heap / 2 ** 20).toFixed(0)} MiB`,
  );

  const output: RssOutput = {
    ...input,
    events,
    loadMs,
    populateMs,
    before,
    after,
    maxRss: process.resourceUsage().maxRSS * 1024,
    statuses: Object.fromEntries([...load.statuses].map(([k, v]) => [String(k), v])),
  };
  await new Promise<void>((resolve, reject) =>
    send(output, (error: Error | null) => (error ? reject(error) : resolve())),
  );
} finally {
  await app.stop();
  await tg.close();
  await db.stop();
}
process.exit(0);
