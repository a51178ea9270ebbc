// Copying the PostgreSQL log into EventStoreDB in log order (docs/design.md, "Moving the log to
// EventStoreDB"): each run of consecutive events of one stream is one append, with the same ids,
// types, data and metadata (plus the original recording time), expecting the revision before the
// run's first, so every event keeps its revision and a stream that moved on is an error, not a gap.
import type pg from 'pg';
import type { EventLog, LogPosition, RecordedEvent } from '../../domain/event-log.ts';
import { startOfLog } from '../../domain/event-log.ts';
import { copiedEvent } from './original-times.ts';
import { type CopyProgress, saveProgress } from './progress.ts';

export interface CopyContext {
  readonly db: Pick<pg.Pool, 'query'>;
  /** The PostgreSQL log. */
  readonly source: EventLog;
  /** The EventStoreDB log (through withOriginalTimes). */
  readonly target: EventLog;
  /** td_log_copy's key. */
  readonly targetName: string;
  /** Events read from PostgreSQL per page (progress is saved once per page). Default 4000. */
  readonly pageSize?: number;
  /** At most this many events per append. Default 1000. */
  readonly maxAppend?: number;
  readonly onProgress?: (progress: CopyProgress) => void;
}

/** EventStoreDB holds something log:migrate did not copy there, or not in that order. */
export class TargetNotOursError extends Error {
  override readonly name = 'TargetNotOursError';
  readonly code = 'target_not_ours';
}

/** The server refuses an append larger than its limit (1 MiB at the least): runs stay well below. */
const MAX_APPEND_BYTES = 512 * 1024;

const sizeOf = (e: RecordedEvent) => JSON.stringify(e.data).length + JSON.stringify(e.metadata).length + 64;

/** Consecutive events of one stream, at most `max` (and about MAX_APPEND_BYTES) each, in log order. */
export const streamRuns = (events: readonly RecordedEvent[], max: number): RecordedEvent[][] => {
  const runs: RecordedEvent[][] = [];
  let run: RecordedEvent[] = [];
  let bytes = 0;
  for (const e of events) {
    const size = sizeOf(e);
    if (
      run.length > 0 &&
      (run[0]!.stream !== e.stream || run.length >= max || bytes + size > MAX_APPEND_BYTES)
    ) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(e);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
};

const at = (p: LogPosition | null) => p ?? startOfLog;

/**
 * After a crash: the events EventStoreDB holds past the saved progress were appended by the copy that
 * died after appending and before saving. They must be the next PostgreSQL events, in order; progress
 * moves past them, so they are never appended twice.
 */
export const reconcile = async (ctx: CopyContext, progress: CopyProgress): Promise<CopyProgress> => {
  let p = progress;
  for (;;) {
    const landed = await ctx.target.readAll(at(p.target), ctx.pageSize ?? 2000);
    if (landed.length === 0) return p;
    const expected = await ctx.source.readAll(at(p.source), landed.length);
    landed.forEach((e, i) => {
      const s = expected[i];
      if (s?.id !== e.id || s.stream !== e.stream || s.revision !== e.revision)
        throw new TargetNotOursError(
          `EventStoreDB holds ${e.stream}@${e.revision} (${e.id}) where the copy expected ${s ? `${s.stream}@${s.revision} (${s.id})` : 'the end of the PostgreSQL log'}: it is not a copy of this log`,
        );
    });
    p = {
      ...p,
      source: expected[landed.length - 1]!.position,
      target: landed[landed.length - 1]!.position,
      copied: p.copied + landed.length,
    };
    await saveProgress(ctx.db, ctx.targetName, p);
    ctx.onProgress?.(p);
  }
};

/** Appends every PostgreSQL event after the progress; returns the progress at the end of the log. */
export const copyEvents = async (ctx: CopyContext, progress: CopyProgress): Promise<CopyProgress> => {
  const pageSize = ctx.pageSize ?? 4000;
  const maxAppend = ctx.maxAppend ?? 1000;
  let p = progress;
  let reading = ctx.source.readAll(at(p.source), pageSize);
  for (;;) {
    const page = await reading;
    if (page.length === 0) return p;
    // The next page is read from PostgreSQL while this one is appended.
    reading = ctx.source.readAll(page[page.length - 1]!.position, pageSize);
    reading.catch(() => undefined); // an append failing first is the error to report
    for (const run of streamRuns(page, maxAppend)) {
      const first = run[0]!;
      const result = await ctx.target.append(
        first.stream,
        run.map(copiedEvent),
        first.revision === 0 ? 'no_stream' : first.revision - 1,
      );
      if (result.alreadyStored)
        throw new TargetNotOursError(
          `EventStoreDB already held ${first.stream}@${first.revision}.. (${first.id}) past the copy's progress`,
        );
      p = {
        ...p,
        source: run[run.length - 1]!.position,
        target: result.position,
        copied: p.copied + run.length,
      };
    }
    await saveProgress(ctx.db, ctx.targetName, p);
    ctx.onProgress?.(p);
  }
};
