// What a projection is: a versioned set of tables built from the log, written in batches.
import type { RecordedEvent } from '../domain/event-log.ts';
import type { SqlClient } from './sql.ts';

/** The tables of one generation: `t('rm_messages')` → `rm_messages_g3`. Readers use views named after the table. */
export type TableNamer = (table: string) => string;

export const tableNamer =
  (generation: number): TableNamer =>
  (table) =>
    `${table}_g${generation}`;

export interface BatchContext {
  readonly t: TableNamer;
  /** A counter kept with the checkpoint, advanced in the same transaction (message cursors). */
  counter: bigint;
  /** Per-runner memory that survives between batches of one generation (caches). */
  readonly memory: Map<string, unknown>;
  /**
   * Rows the batch wrote, as the projection chooses to tell them once the batch commits (messages:
   * its rows, so a POST waiting in this process need not read its row back).
   */
  readonly written: unknown[];
  /**
   * Queues a write whose result the projection does not need. Queued writes are sent in order once
   * every projection of the batch has read what it needs, so the transaction holds back the log's
   * readers only for its last round trips (docs/design.md, "Projections and rebuilds").
   */
  write(text: string, params?: readonly unknown[]): void;
  /**
   * Up to `maxCount` events of one stream from `fromRevision`, read from the log: for a projection that
   * holds state between batches and must catch up what it no longer holds (after a restart).
   */
  readStream(stream: string, fromRevision: number, maxCount: number): Promise<readonly RecordedEvent[]>;
}

/** A write queued by BatchContext.write. */
export interface QueuedWrite {
  readonly text: string;
  readonly params?: readonly unknown[];
}

export interface Projection {
  readonly name: string;
  /** Bumped when the tables or the way they are built change: a new version is rebuilt beside the old. */
  readonly version: number;
  /** Tables read through views of the same name (`rm_messages` → view over `rm_messages_gN`). */
  readonly tables: readonly string[];
  /** DDL creating one generation's tables, with only the keys the writes need. */
  createTables(t: TableNamer): string;
  /** DDL of the secondary indexes, created after a rebuild's bulk load (cheaper than maintaining them); '' for none. */
  createIndexes(t: TableNamer): string;
  /**
   * DDL bringing a generation built by an older version to this version's shape in place (new columns
   * nullable, `IF NOT EXISTS`), so readers keep working until `projections:rebuild` fills them.
   * Undefined when that version's tables need nothing.
   */
  upgrade?(t: TableNamer, fromVersion: number): string | undefined;
  /**
   * Applies events in log order; runs inside the transaction that also moves the checkpoint. Reads go
   * through `sql`, writes through `ctx.write`.
   */
  apply(sql: SqlClient, events: readonly RecordedEvent[], ctx: BatchContext): Promise<void>;
}
