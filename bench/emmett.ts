// The peer reference: Emmett's PostgreSQL event store (@event-driven-io/emmett-postgresql), appending
// and reading the same events as topicdesk's log, on the same database, in the same run.
//
// It lives in bench/reference/ with its own package.json and lockfile, not in the app's dependencies:
// its peer dependencies (commander 12, uuid 10) conflict with the app's (commander 14, uuid 11). It
// is imported by file path, computed at runtime, so `tsc` never sees it; the few calls made here are
// typed below by hand (from its dist/index.d.ts, version 0.42). If bench/reference/node_modules is
// missing, it is installed from the lockfile (`npm ci --prefix bench/reference`) and a line says so.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchEvent, perWriter, rate, type SingleAppends, timed } from './support.ts';

export const referenceDir = fileURLToPath(new URL('./reference/', import.meta.url));
const modules = join(referenceDir, 'node_modules');
const file = (path: string) => pathToFileURL(join(modules, path)).href;

// ---- the part of Emmett's API used here -------------------------------------------------------

interface EmmettEvent {
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: Record<string, unknown>;
}

interface EmmettReadEvent extends EmmettEvent {
  readonly metadata: { readonly streamPosition: bigint; readonly globalPosition: bigint };
}

interface EmmettStore {
  /** `expectedStreamVersion` 0n: the stream must not exist yet (the first event gets version 1). */
  appendToStream(
    streamName: string,
    events: EmmettEvent[],
    options?: { expectedStreamVersion?: bigint },
  ): Promise<{ nextExpectedStreamVersion: bigint; lastEventGlobalPosition: bigint }>;
  readStream(streamName: string): Promise<{ currentStreamVersion: bigint; events: EmmettReadEvent[] }>;
  schema: { migrate(): Promise<unknown> };
  close(): Promise<void>;
}

/** A dumbo (Emmett's SQL layer) connection pool. */
interface DumboPool {
  readonly execute: unknown;
  close(): Promise<void>;
}

interface EmmettPostgresModule {
  getPostgreSQLEventStore(
    connectionString: string,
    options?: { connectionOptions?: { dumbo: DumboPool } },
  ): EmmettStore;
  /** What Emmett's consumers and projections read the whole log with: `after` a global position. */
  readMessagesBatch(
    execute: unknown,
    options: { after: bigint; batchSize: number },
  ): Promise<{ currentGlobalPosition: bigint; messages: EmmettReadEvent[]; areMessagesLeft: boolean }>;
}

interface DumboModule {
  dumbo(options: { connectionString: string; pool: unknown }): DumboPool;
}

interface PgPool {
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
}
interface PgModule {
  readonly default: { Pool: new (options: { connectionString: string; max: number }) => PgPool };
}

// ---- install on demand --------------------------------------------------------------------------

const entryIn = (dir: string) => join(dir, 'node_modules/@event-driven-io/emmett-postgresql/dist/index.js');
const entry = entryIn(referenceDir);

/** Installs bench/reference's packages from its lockfile unless they are there (`dir`: for a test). */
export const ensureReferenceInstalled = (dir = referenceDir) => {
  if (existsSync(entryIn(dir))) return;
  console.log(
    `${dir === referenceDir ? 'bench/reference' : dir}/node_modules is missing: installing Emmett for the reference figures with \`npm ci --prefix ${dir === referenceDir ? 'bench/reference' : dir}\` (its own lockfile)`,
  );
  const result = spawnSync('npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0 || !existsSync(entryIn(dir)))
    throw new Error(`npm ci --prefix ${dir} failed (exit ${result.status})`);
};

export const emmettVersion = () =>
  (
    JSON.parse(readFileSync(join(modules, '@event-driven-io/emmett-postgresql/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

// ---- the reference ----------------------------------------------------------------------------

export interface Emmett {
  readonly version: string;
  readonly store: EmmettStore;
  /**
   * Every event of the store in Emmett's global order, `batchSize` per query, as Emmett's consumers
   * page (after the last message's global position): rows read, and how many distinct events.
   */
  readAll(batchSize: number): Promise<{ read: number; distinct: number }>;
  close(): Promise<void>;
}

/**
 * Emmett's event store on `url`, its schema created (its tables emt_streams, emt_messages, … and the
 * sequence emt_global_message_position; it would otherwise create them on first use), over a pool of
 * `poolSize` connections (the pg of bench/reference, not the app's).
 */
export const openEmmett = async (url: string, poolSize: number): Promise<Emmett> => {
  ensureReferenceInstalled();
  const emmett = (await import(pathToFileURL(entry).href)) as EmmettPostgresModule;
  const { dumbo } = (await import(file('@event-driven-io/dumbo/dist/index.js'))) as DumboModule;
  const pg = (await import(file('pg/esm/index.mjs'))) as PgModule;
  const pool = new pg.default.Pool({ connectionString: url, max: poolSize });
  pool.on('error', (error) =>
    process.stderr.write(`[emmett] idle database connection lost: ${error.message}\n`),
  );
  const connections = dumbo({ connectionString: url, pool });
  const store = emmett.getPostgreSQLEventStore(url, { connectionOptions: { dumbo: connections } });
  await store.schema.migrate();
  return {
    version: emmettVersion(),
    store,
    async readAll(batchSize) {
      let after = -1n;
      const positions: bigint[] = [];
      for (;;) {
        const batch = await emmett.readMessagesBatch(connections.execute, { after, batchSize });
        for (const m of batch.messages) positions.push(m.metadata.globalPosition);
        if (!batch.areMessagesLeft) return { read: positions.length, distinct: new Set(positions).size };
        after = batch.currentGlobalPosition;
      }
    },
    async close() {
      await store.close();
      await pool.end();
    },
  };
};

/**
 * appendSingles' twin: the same events (benchEvent: same payload, same metadata, the event id as
 * Emmett's message id) to the same streams with the same concurrency, one event per appendToStream,
 * each with its stream's expected version; events/s.
 */
export const appendSinglesEmmett = async (emmett: Emmett, o: SingleAppends) => {
  const n = perWriter(o);
  const { ms } = await timed(() =>
    Promise.all(
      Array.from({ length: o.writers }, async (_, w) => {
        const versions = new Map<string, bigint>();
        for (let i = 0; i < n; i++) {
          const stream = o.stream(w, i);
          const event = benchEvent(i, o.type ?? 'BenchAppended', { kind: 'client', id: String(w) });
          const result = await emmett.store.appendToStream(
            stream,
            [{ type: event.type, data: event.data, metadata: { ...event.metadata, messageId: event.id } }],
            { expectedStreamVersion: versions.get(stream) ?? 0n },
          );
          versions.set(stream, result.nextExpectedStreamVersion);
        }
      }),
    ),
  );
  return { ms, events: n * o.writers, rate: rate(n * o.writers, ms) };
};
