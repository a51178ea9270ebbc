// Rebuilds started from the admin API: each runs in this process in the background (the same
// zero-downtime rebuild as `projections:rebuild`), and its progress is kept here to be watched.
// One rebuild of a projection at a time across instances: the rebuild's advisory lock refuses a
// second one, which the API answers 409.
import { randomUUID } from 'node:crypto';
import type { EventLog } from '../../domain/event-log.ts';
import type { Projection } from '../../projections/projection.ts';
import { type RebuildProgress, rebuildProjection } from '../../projections/rebuild.ts';
import type { SqlDatabase } from '../../projections/sql.ts';

export interface RebuildJob {
  readonly id: string;
  readonly projection: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly phase: RebuildProgress['phase'] | 'starting';
  readonly events: number;
  /** The log's size when the rebuild started (an estimate; null when unknown). */
  readonly total: number | null;
  readonly events_per_second: number;
  /** Seconds left at the current rate while loading; null when unknown. */
  readonly eta_seconds: number | null;
  readonly started_at: string;
  readonly finished_at: string | null;
  readonly generation: number | null;
  readonly error: string | null;
}

export interface RebuildJobs {
  /** Starts a rebuild; resolves once it holds its lock (or rejects, e.g. RebuildInProgressError). */
  start(projection: Projection): Promise<RebuildJob>;
  get(id: string): RebuildJob | undefined;
  list(): RebuildJob[];
  /** Waits for the rebuilds running here (they are not interrupted half-way). */
  stop(): Promise<void>;
}

export interface RebuildJobsOptions {
  readonly db: SqlDatabase;
  readonly log: EventLog;
  readonly estimateTotal?: () => Promise<number | undefined>;
  readonly onError?: (error: unknown, projection: string) => void;
  /** Finished jobs kept for watching. Default 50. */
  readonly keep?: number;
}

export const createRebuildJobs = (options: RebuildJobsOptions): RebuildJobs => {
  const jobs = new Map<string, RebuildJob>();
  const running = new Set<Promise<unknown>>();
  const keep = options.keep ?? 50;

  const forget = () => {
    const finished = [...jobs.values()].filter((j) => j.state !== 'running');
    for (const j of finished.slice(0, Math.max(0, finished.length - keep))) jobs.delete(j.id);
  };

  return {
    async start(projection) {
      const running_ = [...jobs.values()].find(
        (j) => j.projection === projection.name && j.state === 'running',
      );
      if (running_) return running_;
      const id = randomUUID();
      let job: RebuildJob = {
        id,
        projection: projection.name,
        state: 'running',
        phase: 'starting',
        events: 0,
        total: null,
        events_per_second: 0,
        eta_seconds: null,
        started_at: new Date().toISOString(),
        finished_at: null,
        generation: null,
        error: null,
      };
      let markStarted: () => void = () => {};
      const started = new Promise<void>((resolve) => {
        markStarted = resolve;
      });
      const update = (patch: Partial<RebuildJob>) => {
        job = { ...job, ...patch };
        jobs.set(id, job);
      };
      const work = rebuildProjection({
        db: options.db,
        log: options.log,
        projection,
        ...(options.estimateTotal ? { estimateTotal: options.estimateTotal } : {}),
        onProgress: (p) => {
          const total = p.total ?? null;
          const left = total !== null ? Math.max(0, total - p.events) : null;
          update({
            phase: p.phase,
            events: p.events,
            total,
            events_per_second: Math.round(p.eventsPerSecond),
            eta_seconds:
              left !== null && p.eventsPerSecond > 0 && p.phase === 'loading'
                ? Math.round(left / p.eventsPerSecond)
                : null,
          });
          markStarted();
        },
      });
      const settled = work.then(
        (result) => {
          update({
            state: 'done',
            phase: 'done',
            events: result.events,
            generation: result.generation,
            eta_seconds: 0,
            finished_at: new Date().toISOString(),
          });
          forget();
        },
        (error: unknown) => {
          if (job.phase !== 'starting') {
            options.onError?.(error, projection.name);
            update({
              state: 'failed',
              error: error instanceof Error ? error.message : String(error),
              finished_at: new Date().toISOString(),
            });
            forget();
          }
        },
      );
      running.add(settled);
      void settled.finally(() => running.delete(settled));
      // Refused before it began (another instance rebuilds it): the caller hears why; no job kept.
      await Promise.race([started, work]);
      return job;
    },
    get: (id) => jobs.get(id),
    list: () => [...jobs.values()].sort((a, b) => b.started_at.localeCompare(a.started_at)),
    async stop() {
      await Promise.all([...running]);
    },
  };
};
