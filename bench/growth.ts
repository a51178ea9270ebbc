// `npm run bench -- growth [--growth-sizes=100,1000,10000,100000] [--growth-samples=30] …`: what one
// message costs as its conversation grows. The whole app (startApp, as `npm start` runs it) on a
// throwaway durable embedded PostgreSQL, wired to the Telegram Bot API stand-in, holding for every size
// two long conversations — one of the external channel (source `shop`), one of Telegram — whose history
// is written straight into td_events by COPY (bench/growth-history.ts) before the app starts; the
// projections then build their read models from it, the reactors start past it (it was handled long
// ago). Per size, one message at a time, interleaved over the sizes so that machine noise falls on all
// of them alike:
//
//   1. POST /api/external/{externalId}/messages → 201 (the default API_WRITE_WAIT_MS: the message is
//      listed with its cursor);
//   2. the same POST → its copy in the topic (the stand-in answered the sendMessage);
//   3. a Telegram client's message (POST /webhooks/telegram) → its copy in the topic (copyMessage);
//   4. a manager's answer in the topic (POST /webhooks/telegram) → delivered to the client (copyMessage
//      into the private chat);
//   5. the cold cache: the app restarted (a warm-up on other conversations first), then the first POST
//      on the long conversation and the first webhook on the long Telegram conversation;
//   6. the RSS of a process holding N cached conversations of M messages (bench/growth-rss.ts, a
//      process of its own on a database of its own).
//
// After every message the bench waits until the projections and reactors are at the head of the log,
// so no message's work spills into the next one's figure. The stand-in enforces no limit and the app's
// limiter is opened wide; ORDER_WAIT_MS=0, or every copy would wait the reactors' burst-ordering hold
// (1 s by default) and the figures would measure that sleep.
//
// Also: statements (queries sent by the app's pg clients) per POST at the smallest and largest size,
// counted by wrapping pg's Client.prototype.query in this process; with `--growth-profile=DIR`, only a
// CPU profile (node:inspector) of POSTs at the largest size, written to DIR and summarised.
import { execFileSync, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { authenticate, createSource } from '../src/adapters/sources/sources.ts';
import type { App } from '../src/app/app.ts';
import { CACHED_CONVERSATIONS } from '../src/domain/conversation-reader.ts';
import { telegramStandInEnv } from '../test/support/app-env.ts';
import {
  type ApiCall,
  type StandInUser,
  startTelegramStandIn,
  type TelegramStandIn,
} from '../test/support/telegram-stand-in.ts';
import { withCpuProfile } from './cpu-profile.ts';
import { caughtUp, copyHistory, type HistorySpec, historyOf, skipToHead } from './growth-history.ts';
import type { RssInput, RssOutput } from './growth-rss.ts';
import { startBenchApp } from './http.ts';
import { formatSummary, summarizeProfile } from './profile-summary.ts';
import { type BenchDatabase, machine, mib, printGrid, startBenchDatabase } from './support.ts';

export interface GrowthOptions {
  /** Messages in the long conversations (default 100, 1 000, 10 000, 100 000). */
  readonly sizes?: readonly number[];
  /** Measured messages per figure and size (default 30), after one unmeasured round. */
  readonly samples?: number;
  /** Seconds a size may spend on its samples before it stops at `minSamples` (default 120). */
  readonly budgetS?: number;
  /** Restarts per size for the cold-cache figure (default 3). */
  readonly coldRounds?: number;
  /** Conversations cached for the RSS figure (default 5 000). */
  readonly cached?: number;
  /** Messages in each of them (default 1 000). */
  readonly cachedMessages?: number;
  /** Only a CPU profile of POSTs at the largest size, written to this directory. */
  readonly profileDir?: string;
}

export const SECRET = 'bench_growth_secret';
export const SOURCE = 'shop';
const minSamples = 5;

const began = performance.now();
export const progress = (line: string) =>
  process.stderr.write(`[growth +${((performance.now() - began) / 1000).toFixed(0)} s] ${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The app against the stand-in: its limiter opened wide, no burst-ordering hold, no API rate limit. */
export const growthEnv = (tg: TelegramStandIn): Record<string, string> => ({
  ...telegramStandInEnv(tg, SECRET),
  TELEGRAM_MODE: 'webhook',
  TELEGRAM_LIMIT_PER_CHAT_PER_SECOND: '1000000',
  TELEGRAM_LIMIT_GROUP_PER_MINUTE: '100000000',
  TELEGRAM_LIMIT_PER_SECOND: '1000000',
  ORDER_WAIT_MS: '0',
  API_RATE_LIMIT_PER_MINUTE: '1000000000',
});

/** A Bot API call to the stand-in as the bot (what the app would have done when it opened a topic). */
export const botCall = async <T>(tg: TelegramStandIn, method: string, params: object): Promise<T> => {
  const res = await fetch(`${tg.apiRoot}/bot${tg.token}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  const body = (await res.json()) as { ok: boolean; result: T; description?: string };
  if (!body.ok) throw new Error(`stand-in ${method}: ${body.description}`);
  return body.result;
};

export const openTopic = async (tg: TelegramStandIn, name: string): Promise<string> =>
  String(
    (
      await botCall<{ message_thread_id: number }>(tg, 'createForumTopic', {
        chat_id: tg.supportChatId,
        name,
      })
    ).message_thread_id,
  );

/** Registers the source and waits until the app accepts its token (the sources read model has it). */
export const registerSource = async (app: App, db: BenchDatabase): Promise<Record<string, string>> => {
  const { token } = await createSource(app.log, SOURCE, null);
  for (let i = 0; !(await authenticate(db.pool, token)); i++) {
    if (i > 500) throw new Error('the token was not accepted within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  return { authorization: `Bearer ${token}` };
};

/** When the stand-in has answered 200 to the first call from index `from` on that matches (performance.now()). */
export const answered = (
  tg: TelegramStandIn,
  from: number,
  match: (c: ApiCall) => boolean,
  timeoutMs = 300_000,
): Promise<number> =>
  new Promise((resolve, reject) => {
    const deadline = performance.now() + timeoutMs;
    let next = from;
    const tick = () => {
      const calls = tg.calls;
      for (; next < calls.length; next++) {
        const c = calls[next]!;
        if (c.status === undefined) break; // not answered yet: look again from here
        if (c.status === 200 && match(c)) return resolve(performance.now());
      }
      if (performance.now() > deadline) return reject(new Error('timed out waiting for the stand-in call'));
      setTimeout(tick, 1);
    };
    tick();
  });

export const postMessage = async (
  app: App,
  auth: Record<string, string>,
  externalId: string,
  text: string,
): Promise<number> => {
  const res = await fetch(`${app.address()}/api/external/${encodeURIComponent(externalId)}/messages`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  await res.arrayBuffer();
  return res.status;
};

const postUpdate = async (app: App, update: unknown): Promise<number> => {
  const res = await fetch(`${app.address()}/webhooks/telegram`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
    body: JSON.stringify(update),
  });
  await res.arrayBuffer();
  return res.status;
};

// ---------------------------------------------------------------------------------------------
// Statements: every query the app's pg clients send, counted in this process (the bench's own pool
// is left out by its clients). A runner's read of the log's tail that finds nothing is counted apart:
// each subscription polls so once a second when idle (its fallback for a missed NOTIFY) and once after
// every batch, so over a long window most of them are the clock's, not the message's.

interface QueryCount {
  on: boolean;
  byText: Map<string, number>;
  emptyTailReads: number;
}
const queries: QueryCount = { on: false, byText: new Map(), emptyTailReads: 0 };
const benchClients = new WeakSet<object>();
let wrapped = false;
const statementKey = (q: unknown) => {
  const text =
    typeof q === 'string'
      ? q
      : typeof (q as { text?: unknown })?.text === 'string'
        ? (q as { text: string }).text
        : '(submittable)';
  return text
    .replaceAll(/\s+/g, ' ')
    .trim()
    .replace(
      'position, transaction_id, event_id, stream, revision, type, data, metadata, recorded_at',
      '<event>',
    )
    .slice(0, 100);
};
const countQueries = (db: BenchDatabase) => {
  db.pool.on('connect', (client) => benchClients.add(client));
  if (wrapped) return;
  wrapped = true;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: object, ...args: unknown[]) {
    if (!queries.on || benchClients.has(this)) return original.apply(this, args);
    const key = statementKey(args[0]);
    const count = (k: string) => queries.byText.set(k, (queries.byText.get(k) ?? 0) + 1);
    if (!key.includes('AS settled FROM td_events')) {
      count(key);
      return original.apply(this, args);
    }
    // The tail read: told apart by what it returned (pg's pool passes a callback; a client, a promise).
    const seen = (rows: number | null | undefined) => {
      if (!queries.on) return;
      if (rows === 0) queries.emptyTailReads++;
      else count(key);
    };
    const last = args.at(-1);
    if (typeof last === 'function') {
      args[args.length - 1] = (error: unknown, result: { rowCount?: number | null } | undefined) => {
        seen(error ? null : result?.rowCount);
        return (last as (...a: unknown[]) => unknown)(error, result);
      };
      return original.apply(this, args);
    }
    const out = original.apply(this, args) as Promise<{ rowCount?: number | null }> | undefined;
    out?.then(
      (r) => seen(r?.rowCount),
      () => seen(null),
    );
    return out;
  };
};
const startCounting = () => {
  queries.byText = new Map();
  queries.emptyTailReads = 0;
  queries.on = true;
};
const counted = () => [...queries.byText.values()].reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------

interface Long {
  readonly size: number;
  readonly external: HistorySpec;
  readonly telegram: HistorySpec;
  readonly user: StandInUser;
  readonly events: { external: number; telegram: number };
}

type Figure =
  | 'post'
  | 'postCopy'
  | 'webhook'
  | 'webhook200'
  | 'answer'
  | 'answer200'
  | 'coldPost'
  | 'coldCommand'
  | 'coldWebhook';

/** The app's own total time in recorded ReceiveClientMessage commands (topicdesk_command_duration_seconds), in ms. */
const commandMs = async (app: App): Promise<number> => {
  const metric = app.metrics.registry.getSingleMetric('topicdesk_command_duration_seconds');
  const { values } = (await metric?.get()) ?? { values: [] };
  const sum = values.find(
    (v) =>
      (v as { metricName?: string }).metricName === 'topicdesk_command_duration_seconds_sum' &&
      v.labels.command === 'ReceiveClientMessage' &&
      v.labels.outcome === 'recorded',
  );
  return (sum?.value ?? 0) * 1000;
};

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mean = (xs: readonly number[]) =>
  xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
const msText = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '');
const sizeLabel = (n: number) => (n >= 1000 && n % 1000 === 0 ? `${n / 1000} k` : String(n));

export const benchGrowth = async (options: GrowthOptions = {}): Promise<void> => {
  const sizes = [...(options.sizes ?? [100, 1000, 10_000, 100_000])].sort((a, b) => a - b);
  const samples = options.samples ?? 30;
  const budgetMs = (options.budgetS ?? 120) * 1000;
  const coldRounds = options.coldRounds ?? 3;
  const loadAtStart = loadavg()[0]!;
  const t0 = performance.now();
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();

  const db = await startBenchDatabase(8);
  // Not while profiling: the wrapper would stand on every query's stack.
  if (!options.profileDir) countQueries(db);
  const tg = await startTelegramStandIn();
  const env = growthEnv(tg);
  let app: App | undefined;
  try {
    // ---- the schema, the source, the users and topics; then the app stops for the bulk load ----
    app = await startBenchApp(db, env);
    const auth = await registerSource(app, db);
    const manager = tg.addManager({ first_name: 'Alice', last_name: 'Manager' });
    const supportChatId = String(tg.supportChatId);
    const longs: Long[] = [];
    for (const [k, size] of sizes.entries()) {
      const user = tg.addUser({ first_name: `Long${size}`, username: `long_${size}` });
      longs.push({
        size,
        user,
        external: {
          channel: 'external',
          source: SOURCE,
          clientId: `long-${size}`,
          profile: {},
          topicId: await openTopic(tg, `long-${size} · ${SOURCE}`),
          supportChatId,
          messages: size,
          seed: 1000 + k,
        },
        telegram: {
          channel: 'telegram',
          source: 'telegram',
          clientId: String(user.id),
          profile: { firstName: `Long${size}`, username: `long_${size}` },
          topicId: await openTopic(tg, `Long${size} · telegram`),
          supportChatId,
          messages: size,
          seed: 2000 + k,
        },
        events: { external: 0, telegram: 0 },
      });
    }
    await app.stop();
    app = undefined;

    progress(
      `writing the long conversations (${sizes.map(sizeLabel).join(', ')} messages, two each) by COPY`,
    );
    const loaded = performance.now();
    let rows = 0;
    for (const l of longs) {
      for (const kind of ['external', 'telegram'] as const) {
        const n = await copyHistory(db, historyOf(l[kind]));
        (l.events as { external: number; telegram: number })[kind] = n;
        rows += n;
      }
    }
    await skipToHead(db, ['telegram', 'webhooks']);
    progress(`  ${rows.toLocaleString('en-US')} events in ${seconds(performance.now() - loaded)}`);
    app = await startBenchApp(db, env);
    const catchUp = performance.now();
    await caughtUp(db, 60 * 60_000, progress, 100);
    progress(`  projections caught up in ${seconds(performance.now() - catchUp)}`);
    await db.pool.query('VACUUM (ANALYZE)');
    const topicOf = (spec: HistorySpec) => Number(spec.topicId);

    // ---- one message of each kind on one size's conversations -----------------------------------
    const figures = new Map<Figure, Map<number, number[]>>();
    const record = (f: Figure, size: number, ms: number) => {
      const m = figures.get(f) ?? new Map<number, number[]>();
      figures.set(f, m);
      m.set(size, [...(m.get(size) ?? []), ms]);
    };
    const statuses = new Map<number, number>();
    const live = () => app!;

    const externalMessage = async (l: Long, tag: string) => {
      const token = `${tag}-${randomUUID().slice(0, 8)}`;
      const from = tg.calls.length;
      const start = performance.now();
      const status = await postMessage(
        live(),
        auth,
        l.external.clientId,
        `question ${token}: where is my parcel?`,
      );
      const answeredAt = performance.now();
      if (status !== 201 && status !== 202) throw new Error(`POST answered ${status}`);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      // The token is the message's own: its copy in whichever topic (a new client's opens one).
      const copied = await answered(
        tg,
        from,
        (c) => c.method === 'sendMessage' && String(c.params.text).includes(token),
      );
      await caughtUp(db, 600_000);
      return { answered: answeredAt - start, copied: copied - start };
    };
    const telegramMessage = async (l: Long, tag: string) => {
      const update = tg.privateMessage(l.user, { text: `question ${tag}: is my order on its way?` });
      const from = tg.calls.length;
      const start = performance.now();
      const status = await postUpdate(live(), update);
      const answeredAt = performance.now();
      if (status !== 200) throw new Error(`the webhook answered ${status}`);
      const copied = await answered(
        tg,
        from,
        (c) =>
          c.method === 'copyMessage' &&
          c.params.from_chat_id === l.user.id &&
          c.params.message_id === update.message!.message_id,
      );
      await caughtUp(db, 600_000);
      return { answered: answeredAt - start, copied: copied - start };
    };
    const managerAnswer = async (l: Long, tag: string) => {
      const update = tg.groupMessage(manager, topicOf(l.telegram), {
        text: `answer ${tag}: it is on its way`,
      });
      const from = tg.calls.length;
      const start = performance.now();
      const status = await postUpdate(live(), update);
      const answeredAt = performance.now();
      if (status !== 200) throw new Error(`the webhook answered ${status}`);
      const delivered = await answered(
        tg,
        from,
        (c) =>
          c.method === 'copyMessage' &&
          c.params.chat_id === l.user.id &&
          c.params.message_id === update.message!.message_id,
      );
      await caughtUp(db, 600_000);
      return { answered: answeredAt - start, delivered: delivered - start };
    };

    // ---- profile only ----------------------------------------------------------------------------
    if (options.profileDir) {
      const l = longs.at(-1)!;
      progress(`CPU profile: ${samples} POSTs at ${l.size.toLocaleString('en-US')} messages`);
      await externalMessage(l, 'profile-warm-up');
      const took: number[] = [];
      const { profile, file } = await withCpuProfile(
        options.profileDir,
        `growth-post-${l.size}`,
        async () => {
          for (let i = 0; i < samples; i++) took.push((await externalMessage(l, `profile-${i}`)).copied);
        },
      );
      const summary = summarizeProfile(profile);
      console.log(
        `\n## growth: CPU profile of ${samples} POSTs (each until its copy is in the topic and every runner is idle) on a conversation of ${l.size.toLocaleString('en-US')} messages\n\n${machine()}; commit ${commit}; POST → copy p50 ${msText(median(took))} ms\nprofile: ${file} (the whole bench process: app, stand-in and the bench's own client)\n`,
      );
      console.log(formatSummary(summary, { top: 15 }));
      console.log('');
      console.log(formatSummary(summary, { top: 15, only: 'src/' }));
      return;
    }

    // ---- per-message figures, sizes interleaved --------------------------------------------------
    progress(
      `per-message figures: ${samples} samples per size (at least ${minSamples}, then ${seconds(budgetMs)} per size)`,
    );
    const spent = new Map(sizes.map((s) => [s, 0]));
    const taken = new Map(sizes.map((s) => [s, 0]));
    for (let round = -1; round < samples; round++) {
      for (const l of longs) {
        if (round >= minSamples && spent.get(l.size)! > budgetMs) continue;
        const start = performance.now();
        const tag = `g${l.size}-${round}`;
        const post = await externalMessage(l, tag);
        const hook = await telegramMessage(l, tag);
        const answer = await managerAnswer(l, tag);
        if (round < 0) continue; // warm-up: connections, JIT, the conversations' cached state
        record('post', l.size, post.answered);
        record('postCopy', l.size, post.copied);
        record('webhook', l.size, hook.copied);
        record('webhook200', l.size, hook.answered);
        record('answer', l.size, answer.delivered);
        record('answer200', l.size, answer.answered);
        spent.set(l.size, spent.get(l.size)! + performance.now() - start);
        taken.set(l.size, taken.get(l.size)! + 1);
      }
      if (round >= 0 && round % 5 === 4)
        progress(
          `  round ${round + 1}: ${longs.map((l) => `${sizeLabel(l.size)} POST→copy p50 ${msText(median(figures.get('postCopy')!.get(l.size)!))} ms`).join(', ')}`,
        );
    }

    // ---- statements per POST, smallest and largest size ------------------------------------------
    const statements: Array<{
      size: number;
      perPost: number;
      emptyTail: number;
      windowMs: number;
      top: string[];
    }> = [];
    for (const l of [longs[0]!, longs.at(-1)!]) {
      const k = 5;
      await externalMessage(l, `count-warm-${l.size}`);
      startCounting();
      const start = performance.now();
      for (let i = 0; i < k; i++) await externalMessage(l, `count-${l.size}-${i}`);
      queries.on = false;
      const top = [...queries.byText.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([text, n]) => `${(n / k).toFixed(1).padStart(5)}  ${text}`);
      statements.push({
        size: l.size,
        perPost: counted() / k,
        emptyTail: queries.emptyTailReads / k,
        windowMs: (performance.now() - start) / k,
        top,
      });
      progress(
        `  app queries per POST at ${sizeLabel(l.size)}: ${(counted() / k).toFixed(1)} (and ${(queries.emptyTailReads / k).toFixed(1)} empty tail reads)`,
      );
    }

    // ---- cold cache: the app restarted, the first command on the long conversation --------------
    progress(`cold cache: ${coldRounds} restarts per size`);
    for (let round = 0; round < coldRounds; round++) {
      for (const l of longs) {
        await app.stop();
        app = undefined;
        app = await startBenchApp(db, env);
        // Warm-up on other conversations: connections, the token, JIT — all but this conversation.
        const warm = { ...l, external: { ...l.external, clientId: `warm-${round}-${l.size}` } };
        await externalMessage(warm, `cold-warm-${round}-${l.size}`);
        const stranger = tg.addUser({ first_name: `Warm${round}x${l.size}` });
        const from = tg.calls.length;
        const update = tg.privateMessage(stranger, { text: 'hello' });
        if ((await postUpdate(app, update)) !== 200) throw new Error('warm-up webhook refused');
        await answered(tg, from, (c) => c.method === 'copyMessage' && c.params.from_chat_id === stranger.id);
        await caughtUp(db, 600_000);
        const before = await commandMs(app);
        const post = await externalMessage(l, `cold-${round}`);
        record('coldPost', l.size, post.answered);
        record('coldCommand', l.size, (await commandMs(app)) - before);
        const hook = await telegramMessage(l, `cold-${round}`);
        record('coldWebhook', l.size, hook.answered);
        progress(
          `  ${sizeLabel(l.size)}: POST ${msText(post.answered)} ms (its command ${msText(figures.get('coldCommand')?.get(l.size)?.at(-1) ?? Number.NaN)} ms), webhook ${msText(hook.answered)} ms`,
        );
      }
    }
    await app.stop();
    app = undefined;

    // ---- RSS with many cached conversations: a process of its own ------------------------------
    const cached = options.cached ?? 5000;
    const cachedMessages = options.cachedMessages ?? 1000;
    progress(
      `RSS: ${cached.toLocaleString('en-US')} cached conversations of ${cachedMessages.toLocaleString('en-US')} messages (a process of its own)`,
    );
    const rss = await runRss({ conversations: cached, messages: cachedMessages });

    // ---- the table ---------------------------------------------------------------------------------
    const smallest = sizes[0]!;
    const goalFor = (size: number) => (size === 10_000 ? 1.2 : size === 100_000 ? 1.5 : undefined);
    const header = [
      'figure',
      ...longs.map((l) => `${sizeLabel(l.size)} msgs`),
      ...sizes.slice(1).map((s) => `${sizeLabel(s)} / ${sizeLabel(smallest)}`),
      'goal',
      'met?',
    ];
    const lines: string[][] = [];
    const ratioRow = (label: string, f: Figure, stat: 'p50' | 'mean', goal: boolean) => {
      const values = sizes.map((s) => {
        const xs = figures.get(f)?.get(s) ?? [];
        return stat === 'p50' ? median(xs) : mean(xs);
      });
      const ratios = values.slice(1).map((v) => v / values[0]!);
      const checks = sizes
        .slice(1)
        .map((s, k) => ({ s, limit: goalFor(s), r: ratios[k]! }))
        .filter((c) => c.limit !== undefined);
      lines.push([
        label,
        ...values.map(msText),
        ...ratios.map((r) => (Number.isFinite(r) ? `×${r.toFixed(2)}` : '')),
        goal ? checks.map((c) => `${sizeLabel(c.s)} ≤ ${c.limit}×`).join(', ') : '',
        goal ? checks.map((c) => `${sizeLabel(c.s)}: ${c.r <= c.limit! ? 'yes' : 'NO'}`).join(', ') : '',
      ]);
    };
    const pair = (label: string, f: Figure) => {
      ratioRow(`${label}, p50 (ms)`, f, 'p50', true);
      ratioRow('  mean (ms)', f, 'mean', true);
    };
    lines.push([
      'events in the conversation (external / telegram)',
      ...longs.map(
        (l) => `${l.events.external.toLocaleString('en-US')} / ${l.events.telegram.toLocaleString('en-US')}`,
      ),
    ]);
    lines.push(['samples per figure', ...longs.map((l) => String(taken.get(l.size)))]);
    pair('1. external API: POST → 201 (listed)', 'post');
    pair('2. POST → copy in the topic', 'postCopy');
    pair('3. Telegram webhook → copy in the topic', 'webhook');
    ratioRow('  of which webhook → 200 (recorded), p50 (ms)', 'webhook200', 'p50', false);
    pair('4. manager answer (topic webhook) → delivered to the client', 'answer');
    ratioRow('  of which webhook → 200 (recorded), p50 (ms)', 'answer200', 'p50', false);
    const coldRow = (label: string, f: Figure) => {
      const values = sizes.map((s) => median(figures.get(f)?.get(s) ?? []));
      const largest = values.at(-1)!;
      const at100k = sizes.includes(100_000) ? values[sizes.indexOf(100_000)]! : undefined;
      lines.push([
        label,
        ...values.map(msText),
        ...values.slice(1).map((v) => `×${(v / values[0]!).toFixed(2)}`),
        '100 k ≤ 50 ms',
        at100k === undefined ? `(100 k not run; largest ${msText(largest)} ms)` : at100k <= 50 ? 'yes' : 'NO',
      ]);
    };
    coldRow(`5. cold cache: first POST after a restart → 201, median of ${coldRounds} (ms)`, 'coldPost');
    coldRow(`   of which its command, read to recorded (the app's own histogram) (ms)`, 'coldCommand');
    coldRow(`   first Telegram webhook after a restart → 200, median of ${coldRounds} (ms)`, 'coldWebhook');
    for (const s of statements)
      lines.push([
        `app queries per POST at ${sizeLabel(s.size)} (all runners; empty tail reads apart)`,
        ...sizes.map((x) => (x === s.size ? `${s.perPost.toFixed(1)} (+${s.emptyTail.toFixed(1)})` : '')),
      ]);
    const perConversation = (rss.after.rss - rss.before.rss) / rss.conversations;
    const heapPer = (rss.after.heap - rss.before.heap) / rss.conversations;
    const rssLines = [
      `6. process RSS with ${rss.conversations.toLocaleString('en-US')} cached conversations of ${rss.messages.toLocaleString('en-US')} messages (${rss.events.toLocaleString('en-US')} events): ${mib(rss.after.rss)} (before caching them: ${mib(rss.before.rss)}; +${mib(rss.after.rss - rss.before.rss)}, ${(perConversation / 1024).toFixed(0)} KiB each); V8 heap in use after GC ${mib(rss.after.heap)} (before: ${mib(rss.before.heap)}; +${(heapPer / 1024).toFixed(0)} KiB each); peak RSS ${mib(rss.maxRss)}`,
      // A held conversation keeps a bounded window, so its heap does not grow with its messages.
      ...(rss.conversations < CACHED_CONVERSATIONS
        ? [
            `   EXTRAPOLATED to a full cache (heap per conversation × ${CACHED_CONVERSATIONS.toLocaleString('en-US')}): +${mib(heapPer * CACHED_CONVERSATIONS)} of heap`,
          ]
        : []),
      `   loaded ${rss.events.toLocaleString('en-US')} events by COPY in ${seconds(rss.loadMs)}; one POST to each conversation (8 in flight) in ${seconds(rss.populateMs)}; answers ${Object.entries(
        rss.statuses,
      )
        .map(([k, v]) => `${v}×${k}`)
        .join(', ')}`,
    ];

    console.log(
      `\n## growth: one message's cost as its conversation grows\n\n${machine()}; commit ${commit}; load average (1 min) ${loadAtStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end; ${seconds(performance.now() - t0)} in all\n`,
    );
    printGrid(header, lines);
    console.log(`\n${rssLines.join('\n')}`);
    console.log(
      `\nORDER_WAIT_MS=0 (the reactors' burst-ordering hold, 1 s by default, would otherwise be most of every copy's latency); the stand-in enforces no flood limit and the app's limiter is opened wide; API_WRITE_WAIT_MS default (2 s): ${[...statuses].map(([s, n]) => `${n}×${s}`).join(', ')} to the timed POSTs. Ratios: each size's figure over the smallest size's; goals on p50 and mean alike.`,
    );
    for (const s of statements)
      console.log(
        `\napp queries per POST at ${sizeLabel(s.size)} messages, one POST at a time until every runner is idle (${msText(s.windowMs)} ms each): ${s.perPost.toFixed(1)}, and ${s.emptyTail.toFixed(1)} reads of the log's tail that found nothing (a runner's poll); by statement:\n${s.top.map((t) => `  ${t}`).join('\n')}`,
      );
  } finally {
    await app?.stop();
    await tg.close();
    await db.stop();
  }
};

const runRss = (input: RssInput): Promise<RssOutput> =>
  new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./growth-rss.ts', import.meta.url)), [JSON.stringify(input)], {
      execArgv: [...process.execArgv, '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let output: RssOutput | undefined;
    child.on('message', (m) => {
      output = m as RssOutput;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (output) resolve(output);
      else reject(new Error(`the RSS run ended (${signal ?? `exit ${code}`}) without figures`));
    });
  });
