// `npm run bench -- log`: append throughput with 1 and 16 writers and read-all / catch-up
// throughput, beside the raw single-row INSERT rate of the same PostgreSQL at the same concurrency.
import { randomUUID } from 'node:crypto';
import { eventLogMigrations, migrate } from '../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../src/adapters/postgres/pg-event-log.ts';
import { startOfLog } from '../src/domain/event-log.ts';
import { fmt, type Row, rate, ratio, startBenchDatabase, timed } from './support.ts';

const payload = (i: number) => ({
  messageId: randomUUID(),
  text: `message number ${i} from a customer who needs help with an order`,
  attachments: [],
  suppressed: false,
});
const metadata = () => ({
  occurredAt: new Date().toISOString(),
  correlationId: randomUUID(),
  causationId: randomUUID(),
  actor: { kind: 'client' as const, id: '42' },
});

export const benchLog = async (options: { perWriterEvents?: number } = {}): Promise<Row[]> => {
  const db = await startBenchDatabase();
  const rows: Row[] = [];
  try {
    await migrate(db.pool, eventLogMigrations);
    await db.pool.query(
      `CREATE TABLE raw_insert (id bigserial PRIMARY KEY, event_id uuid NOT NULL, stream text NOT NULL, type text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL)`,
    );
    const log = createPgEventLog({ pool: db.pool, connectionString: db.url });
    const total = options.perWriterEvents ?? 4000;

    for (const writers of [1, 16]) {
      const perWriter = Math.ceil(total / (writers === 1 ? 1 : 4) / writers) * (writers === 1 ? 1 : 4);
      const count = perWriter * writers;
      // Raw reference first and then topicdesk, twice, keeping the better of each, to even out warm-up.
      let raw = 0;
      let ours = 0;
      for (let round = 0; round < 2; round++) {
        const r = await timed(() =>
          Promise.all(
            Array.from({ length: writers }, async (_, w) => {
              for (let i = 0; i < perWriter; i++) {
                await db.pool.query(
                  'INSERT INTO raw_insert (event_id, stream, type, data, metadata) VALUES ($1, $2, $3, $4, $5)',
                  [
                    randomUUID(),
                    `raw-${writers}-${round}-${w}-${i % 50}`,
                    'ClientMessageReceived',
                    payload(i),
                    metadata(),
                  ],
                );
              }
            }),
          ),
        );
        raw = Math.max(raw, rate(count, r.ms));
        const o = await timed(() =>
          Promise.all(
            Array.from({ length: writers }, async (_, w) => {
              const revisions = new Map<string, number>();
              for (let i = 0; i < perWriter; i++) {
                const stream = `conversation-bench-${writers}-${round}-${w}-${i % 50}`;
                const expected = revisions.get(stream) ?? -1;
                const result = await log.append(
                  stream,
                  [
                    {
                      id: randomUUID(),
                      type: 'ClientMessageReceived',
                      data: payload(i),
                      metadata: metadata(),
                    },
                  ],
                  expected < 0 ? 'no_stream' : expected,
                );
                revisions.set(stream, result.nextRevision);
              }
            }),
          ),
        );
        ours = Math.max(ours, rate(count, o.ms));
      }
      rows.push({
        figure: `append, ${writers} writer${writers > 1 ? 's' : ''} (events/s, ${count} events)`,
        topicdesk: fmt(ours),
        reference: `${fmt(raw)} raw INSERT`,
        ratio: ratio(ours, raw),
        goal: '≥ 50 %',
      });
    }

    const { rows: countRows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM td_events');
    const events = Number(countRows[0]!.n);
    const readAll = await timed(async () => {
      let pos = startOfLog;
      let n = 0;
      for (;;) {
        const batch = await log.readAll(pos, 1000);
        if (batch.length === 0) return n;
        n += batch.length;
        pos = batch[batch.length - 1]!.position;
      }
    });
    const rawRead = await timed(async () => {
      let after = 0;
      let n = 0;
      for (;;) {
        const { rows: r } = await db.pool.query<{ id: string }>(
          'SELECT id, event_id, stream, type, data, metadata FROM raw_insert WHERE id > $1 ORDER BY id LIMIT 1000',
          [after],
        );
        if (r.length === 0) return n;
        n += r.length;
        after = Number(r[r.length - 1]!.id);
      }
    });
    rows.push({
      figure: `read all, batches of 1000 (events/s, ${readAll.value} events)`,
      topicdesk: fmt(rate(readAll.value, readAll.ms)),
      reference: `${fmt(rate(rawRead.value, rawRead.ms))} raw keyset SELECT`,
      ratio: ratio(rate(readAll.value, readAll.ms), rate(rawRead.value, rawRead.ms)),
    });
    const catchUp = await timed(
      () =>
        new Promise<number>((resolve, reject) => {
          let n = 0;
          const sub = log.subscribeAll({ from: startOfLog, batchSize: 1000 }, async (batch) => {
            n += batch.length;
            if (n >= events) void sub.stop().then(() => resolve(n));
          });
          sub.done.catch(reject);
        }),
    );
    rows.push({
      figure: `subscription catch-up (events/s, ${catchUp.value} events)`,
      topicdesk: fmt(rate(catchUp.value, catchUp.ms)),
      reference: `${fmt(rate(rawRead.value, rawRead.ms))} raw keyset SELECT`,
      ratio: ratio(rate(catchUp.value, catchUp.ms), rate(rawRead.value, rawRead.ms)),
    });
    await log.close();
  } finally {
    await db.stop();
  }
  return rows;
};
