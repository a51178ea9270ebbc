// `npm run bench -- migrate [--migrate-events=N]`: log:migrate --to esdb as an operator runs it (the
// CLI in a child process) on a PostgreSQL log of N generated events (a few long Telegram
// conversations written by COPY, bench/growth-history.ts) into the EventStoreDB stand-in
// (test/support/esdb-stand-in.ts, in this process). Reference: the same adapter appending runs of
// 1000 events straight, on the same stand-in: the most a copy through it could reach. The stand-in is
// JavaScript on the same 2 cores; a real KurrentDB node is faster, so read the ratio, not the figure.

import { randomUUID } from 'node:crypto';
import { createEsdbEventLog } from '../src/adapters/eventstore/esdb-event-log.ts';
import { migrate } from '../src/adapters/postgres/migrations.ts';
import type { Config } from '../src/app/config.ts';
import { allMigrations } from '../src/app/context.ts';
import { cli } from '../test/support/cli.ts';
import { startEsdbStandIn } from '../test/support/esdb-stand-in.ts';
import { copyHistory, historyOf } from './growth-history.ts';
import { fmt, type Row, rate, ratio, startBenchDatabase } from './support.ts';

const CONVERSATIONS = 4;

/** Appends `events` in runs of 1000 to fresh streams through the adapter: the reference. */
const rawAppends = async (url: string, events: number): Promise<number> => {
  const log = createEsdbEventLog({ connectionString: url });
  const t0 = performance.now();
  for (let done = 0, s = 0; done < events; s++) {
    const n = Math.min(1000, events - done);
    await log.append(
      `reference-${s}`,
      Array.from({ length: n }, (_, i) => ({
        id: randomUUID(),
        type: 'ClientMessageReceived',
        data: { messageId: randomUUID(), text: 'where is my parcel, the tracking number says delivered', i },
        metadata: {
          occurredAt: new Date().toISOString(),
          correlationId: randomUUID(),
          causationId: randomUUID(),
          actor: { kind: 'client', id: '1' },
        },
      })),
      'no_stream',
    );
    done += n;
  }
  const ms = performance.now() - t0;
  await log.close();
  return rate(events, ms);
};

export const benchMigrate = async (options: { events: number }): Promise<Row[]> => {
  const db = await startBenchDatabase();
  const esdb = await startEsdbStandIn();
  try {
    await migrate(db.pool, allMigrations({ EVENT_STORE: 'postgres' } as Config));
    const per = Math.ceil(options.events / CONVERSATIONS);
    for (let i = 0; i < CONVERSATIONS; i++) {
      let n = 0;
      const rows = (function* () {
        for (const row of historyOf({
          channel: 'telegram',
          source: 'telegram',
          clientId: String(900_000 + i),
          profile: { firstName: `Bulk ${i}` },
          topicId: String(800_000 + i),
          supportChatId: '-1001234567890',
          messages: 10_000_000,
          seed: i + 1,
        })) {
          if (n++ >= per || i * per + n > options.events) return;
          yield row;
        }
      })();
      await copyHistory(db, rows, { chunk: 50_000 });
    }
    const t0 = performance.now();
    const run = await cli(
      ['log:migrate', '--to', 'esdb'],
      { DATABASE_URL: db.url, EVENTSTORE_URL: esdb.url, LOG_LEVEL: 'warn' },
      { timeoutMs: 30 * 60_000 },
    );
    const wallMs = performance.now() - t0;
    if (run.code !== 0) throw new Error(`log:migrate failed: ${run.stderr}`);
    const copied = /copied (\d+) events in ([\d.]+) s \((\d+) events\/s\)/.exec(run.stdout);
    const verified = /verified: (\d+) events .* \(([\d.]+) s\)/.exec(run.stdout);
    if (!copied || !verified) throw new Error(`unexpected output: ${run.stdout}`);
    const copyRate = Number(copied[3]);
    const verifyRate = rate(Number(verified[1]), Number(verified[2]) * 1000);
    const reference = await rawAppends(esdb.url, Math.min(20_000, options.events));
    return [
      {
        figure: `copy into the stand-in (events/s, ${copied[1]} events)`,
        topicdesk: fmt(copyRate),
        reference: `${fmt(reference)} adapter appends of 1000`,
        ratio: ratio(copyRate, reference),
        summary: true,
      },
      {
        figure: `verify both logs (events/s, ${verified[1]} events)`,
        topicdesk: fmt(verifyRate),
        reference: '',
        ratio: '',
      },
      {
        figure: `whole command, start to end (s, ${verified[1]} events)`,
        topicdesk: (wallMs / 1000).toFixed(1),
        reference: '',
        ratio: '',
        summary: true,
      },
    ];
  } finally {
    await esdb.stop();
    await db.stop();
  }
};
