// `npm run bench -- log`: append throughput with 1 and 16 writers, stream reads, read-all and
// catch-up throughput of topicdesk's PostgreSQL event log, each beside two references measured in
// the same run on the same database:
// - raw single-row INSERTs of the same rows at the same concurrency, and a raw keyset SELECT;
// - Emmett's PostgreSQL event store (bench/emmett.ts) appending the same events to the same streams
//   with the same concurrency (one event per append, with the expected version), then reading them
//   back: every stream whole, and everything in its global order.
// Beside them, in a column of its own, the EventStoreDB adapter against the in-memory stand-in
// (bench/log-esdb.ts): throughput and gRPC calls per operation — the adapter's cost, not a server's.
import { eventLogMigrations, migrate } from '../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../src/adapters/postgres/pg-event-log.ts';
import { appendSinglesEmmett, type Emmett, openEmmett } from './emmett.ts';
import {
  catchUp,
  type EsdbBench,
  openEsdbBench,
  perOperation,
  readAllInBatches,
  type Traffic,
} from './log-esdb.ts';
import {
  appendSingles,
  benchEvent,
  fmt,
  latencyOf,
  pXX,
  type Row,
  rate,
  ratio,
  type SingleAppends,
  startBenchDatabase,
  timed,
} from './support.ts';

const progress = (line: string) => process.stderr.write(`[log] ${line}\n`);
const poolSize = 40;
const streamsPerWriter = 50;

export const benchLog = async (options: { events?: number } = {}): Promise<Row[]> => {
  const db = await startBenchDatabase(poolSize);
  let emmett: Emmett | undefined;
  let esdb: EsdbBench | undefined;
  const rows: Row[] = [];
  try {
    await migrate(db.pool, eventLogMigrations);
    await db.pool.query(
      `CREATE TABLE raw_insert (id bigserial PRIMARY KEY, event_id uuid NOT NULL, stream text NOT NULL, type text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL)`,
    );
    const log = createPgEventLog({ pool: db.pool, connectionString: db.url });
    emmett = await openEmmett(db.url, poolSize);
    const peer = emmett;
    const emmettName = `Emmett ${peer.version}`;
    progress(`${emmettName} schema created on the same database`);
    esdb = await openEsdbBench();
    const es = esdb;
    const esdbStreams: string[] = [];
    const total = options.events ?? 4000;
    const streams: string[] = [];

    const rawInserts = async (o: SingleAppends) => {
      const n = Math.ceil(o.count / o.writers);
      const { ms } = await timed(() =>
        Promise.all(
          Array.from({ length: o.writers }, async (_, w) => {
            for (let i = 0; i < n; i++) {
              const e = benchEvent(i, 'ClientMessageReceived', { kind: 'client', id: String(w) });
              await db.pool.query(
                'INSERT INTO raw_insert (event_id, stream, type, data, metadata) VALUES ($1, $2, $3, $4, $5)',
                [e.id, o.stream(w, i), e.type, e.data, e.metadata],
              );
            }
          }),
        ),
      );
      return rate(n * o.writers, ms);
    };

    for (const writers of [1, 16]) {
      const perWriter = Math.ceil(total / (writers === 1 ? 1 : 4) / writers) * (writers === 1 ? 1 : 4);
      const count = perWriter * writers;
      // Each round appends to fresh streams (the same names in topicdesk's log and in Emmett's).
      const spec = (round: number, prefix: string): SingleAppends => ({
        count,
        writers,
        type: 'ClientMessageReceived',
        stream: (w, i) => `${prefix}-bench-${writers}-${round}-${w}-${i % streamsPerWriter}`,
      });
      // Twice, keeping the better of each; the order of the three flipped in the second round, to
      // even out warm-up and whatever else the machine is doing.
      let raw = 0;
      let ours = 0;
      let theirs = 0;
      let esRate = 0;
      let esTraffic: Traffic = { calls: 0, eventsRead: 0 };
      let esEvents = 1;
      for (let round = 0; round < 2; round++) {
        const steps = [
          async () => {
            raw = Math.max(raw, await rawInserts(spec(round, 'raw')));
          },
          async () => {
            ours = Math.max(ours, (await appendSingles(log, spec(round, 'conversation'))).rate);
          },
          async () => {
            theirs = Math.max(theirs, (await appendSinglesEmmett(peer, spec(round, 'conversation'))).rate);
          },
          async () => {
            es.traffic();
            const r = await appendSingles(es.log, spec(round, 'esdb'));
            esTraffic = es.traffic();
            esEvents = r.events;
            esRate = Math.max(esRate, r.rate);
          },
        ];
        for (const step of round === 0 ? steps : steps.reverse()) await step();
        for (let w = 0; w < writers; w++)
          for (let k = 0; k < Math.min(streamsPerWriter, perWriter); k++) {
            streams.push(spec(round, 'conversation').stream(w, k));
            esdbStreams.push(spec(round, 'esdb').stream(w, k));
          }
      }
      progress(
        `append, ${writers} writer(s): raw INSERT ${fmt(raw)}, topicdesk ${fmt(ours)}, ${emmettName} ${fmt(theirs)} events/s`,
      );
      const figure = `append, ${writers} writer${writers > 1 ? 's' : ''} (events/s, ${count} events)`;
      progress(`append, ${writers} writer(s): EventStoreDB adapter on the stand-in ${fmt(esRate)} events/s`);
      rows.push(
        {
          figure,
          topicdesk: fmt(ours),
          reference: `${fmt(raw)} raw INSERT`,
          ratio: ratio(ours, raw),
          goal: '≥ 50 %',
          met: ours >= 0.5 * raw,
          summary: true,
          extra: `${fmt(esRate)} · ${perOperation(esTraffic, esEvents, 'append')}`,
        },
        {
          figure,
          topicdesk: fmt(ours),
          reference: `${fmt(theirs)} ${emmettName} appendToStream`,
          ratio: ratio(ours, theirs),
          summary: true,
        },
      );
    }

    // ---- every stream read whole, one at a time, topicdesk and Emmett alternating which goes first
    const readOne = async (stream: string, which: 'ours' | 'theirs') => {
      const t0 = performance.now();
      const n =
        which === 'ours'
          ? (await log.readStream(stream)).length
          : (await peer.store.readStream(stream)).events.length;
      return { ms: performance.now() - t0, n };
    };
    for (const stream of streams.slice(0, 100)) {
      await readOne(stream, 'ours');
      await readOne(stream, 'theirs');
    }
    const oursMs: number[] = [];
    const theirsMs: number[] = [];
    let streamEvents = 0;
    for (const [k, stream] of streams.entries()) {
      const first = k % 2 === 0 ? 'ours' : 'theirs';
      const a = await readOne(stream, first);
      const b = await readOne(stream, first === 'ours' ? 'theirs' : 'ours');
      if (a.n !== b.n) throw new Error(`${stream}: topicdesk and Emmett hold different event counts`);
      (first === 'ours' ? oursMs : theirsMs).push(a.ms);
      (first === 'ours' ? theirsMs : oursMs).push(b.ms);
      streamEvents += a.n;
    }
    const a = latencyOf(oursMs);
    const b = latencyOf(theirsMs);
    const esMs: number[] = [];
    for (const stream of esdbStreams.slice(0, 100)) await es.log.readStream(stream);
    es.traffic();
    for (const stream of esdbStreams) {
      const t0 = performance.now();
      await es.log.readStream(stream);
      esMs.push(performance.now() - t0);
    }
    const esReadTraffic = es.traffic();
    rows.push({
      figure: `read a stream whole, one at a time (ms, ${streams.length} streams, ${(streamEvents / streams.length).toFixed(1)} events avg)`,
      topicdesk: pXX(a),
      reference: `${pXX(b)} ${emmettName} readStream`,
      ratio: `${(a.p95 / b.p95).toFixed(2)}× p95`,
      summary: true,
      extra: `${pXX(latencyOf(esMs))} · ${perOperation(esReadTraffic, esMs.length, 'read')}`,
    });

    // ---- the whole log in order, batches of 1000 ------------------------------------------------
    const { rows: countRows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM td_events');
    const events = Number(countRows[0]!.n);
    const readAllOurs = () => readAllInBatches(log);
    const readAllRaw = async () => {
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
    };
    let readAll = { ms: Number.POSITIVE_INFINITY, value: 0 };
    let rawRead = { ms: Number.POSITIVE_INFINITY, value: 0 };
    let peerRead = { ms: Number.POSITIVE_INFINITY, value: { read: 0, distinct: 0 } };
    let esRead = { ms: Number.POSITIVE_INFINITY, value: 0 };
    let esReadAllTraffic: Traffic = { calls: 0, eventsRead: 0 };
    const better = <T extends { ms: number }>(x: T, y: T) => (x.ms <= y.ms ? x : y);
    for (let round = 0; round < 2; round++) {
      const steps = [
        async () => {
          readAll = better(readAll, await timed(readAllOurs));
        },
        async () => {
          rawRead = better(rawRead, await timed(readAllRaw));
        },
        async () => {
          peerRead = better(peerRead, await timed(() => peer.readAll(1000)));
        },
        async () => {
          es.traffic();
          esRead = better(esRead, await timed(() => readAllInBatches(es.log)));
          esReadAllTraffic = es.traffic();
        },
      ];
      for (const step of round === 0 ? steps : steps.reverse()) await step();
    }
    if (readAll.value !== events)
      throw new Error(`read all: topicdesk read ${readAll.value} of ${events} events`);
    // Emmett 0.42 pages by global position but orders by (transaction id, global position): where
    // concurrent appends took their positions in another order than they committed, a page boundary
    // reads some events twice or skips them (fixed upstream after 0.42, emmett PR #336). Said, not hidden.
    const { read: peerRows, distinct } = peerRead.value;
    const anomaly =
      peerRows !== events || distinct !== events
        ? `; ${peerRows} rows: ${peerRows - distinct} read twice, ${events - distinct} missed`
        : '';
    if (anomaly) progress(`Emmett read all${anomaly}`);
    const oursRate = rate(readAll.value, readAll.ms);
    const rawRate = rate(rawRead.value, rawRead.ms);
    const peerRate = rate(peerRows, peerRead.ms);
    const readFigure = `read all, batches of 1000 (events/s, ${readAll.value} events)`;
    rows.push(
      {
        figure: readFigure,
        topicdesk: fmt(oursRate),
        reference: `${fmt(rawRate)} raw keyset SELECT`,
        ratio: ratio(oursRate, rawRate),
        summary: true,
        extra: `${fmt(rate(esRead.value, esRead.ms))} · ${perOperation(esReadAllTraffic, Math.ceil(esRead.value / 1000) + 1, 'batch')} (${esRead.value} events)`,
      },
      {
        figure: readFigure,
        topicdesk: fmt(oursRate),
        reference: `${fmt(peerRate)} ${emmettName} readMessagesBatch${anomaly}`,
        ratio: ratio(oursRate, peerRate),
        summary: true,
      },
    );
    const caughtUp = await timed(() => catchUp(log, events));
    const esCatchUp = await timed(() => catchUp(es.log, esRead.value));
    rows.push({
      figure: `subscription catch-up (events/s, ${caughtUp.value} events)`,
      topicdesk: fmt(rate(caughtUp.value, caughtUp.ms)),
      reference: `${fmt(rawRate)} raw keyset SELECT`,
      ratio: ratio(rate(caughtUp.value, caughtUp.ms), rawRate),
      extra: `${fmt(rate(esCatchUp.value, esCatchUp.ms))} (${esCatchUp.value} events)`,
    });
    await log.close();
  } finally {
    await esdb?.close();
    await emmett?.close();
    await db.stop();
  }
  return rows;
};
