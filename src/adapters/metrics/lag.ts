// How far projections and reactors are behind the log, read when Prometheus scrapes (a gauge's
// collect), so the numbers are as fresh as the scrape and cost nothing between scrapes. Projections
// come from projections:status; reactors from their checkpoints in td_reactors, counted the same way.

import client from 'prom-client';
import {
  type EventLog,
  type LogPosition,
  parsePosition,
  type RecordedEvent,
  startOfLog,
} from '../../domain/event-log.ts';
import type { SqlClient } from '../../projections/sql.ts';
import { projectionStatus } from '../../projections/status.ts';
import { scrapeReading } from './scrape-reading.ts';

export interface LagReading {
  readonly kind: 'projection' | 'reactor';
  readonly name: string;
  /** A projection's generation status (active, building); absent for reactors. */
  readonly status?: string;
  /** Events in the log after the checkpoint, counted up to the source's limit. */
  readonly events: number;
  /** Age of the oldest event not yet handled; 0 when caught up. */
  readonly seconds: number;
}

export type LagSource = () => Promise<LagReading[]>;

export interface LagSourceOptions {
  readonly sql: SqlClient;
  readonly log: EventLog;
  /** Events counted at most per projection or reactor, so a scrape during a rebuild stays cheap. Default 10 000. */
  readonly limit?: number;
  readonly now?: () => number;
}

const ageOf = (oldest: RecordedEvent | undefined, now: number) =>
  oldest ? Math.max(0, (now - oldest.recordedAt.getTime()) / 1000) : 0;

const eventsAfter = async (log: EventLog, from: LogPosition, limit: number) => {
  let count = 0;
  let oldest: RecordedEvent | undefined;
  let at = from;
  while (count < limit) {
    const batch = await log.readAll(at, Math.min(5000, limit - count));
    if (batch.length === 0) break;
    oldest ??= batch[0];
    count += batch.length;
    at = batch.at(-1)!.position;
  }
  return { count, oldest };
};

export const createLagSource = (options: LagSourceOptions): LagSource => {
  const { sql, log, limit = 10_000, now = Date.now } = options;
  return async () => {
    const readings: LagReading[] = [];
    for (const p of await projectionStatus(sql, log, limit)) {
      if (p.status === 'retired') continue;
      const from = p.checkpoint ? parsePosition(p.checkpoint) : startOfLog;
      const [oldest] = p.lag > 0 ? await log.readAll(from, 1) : [];
      readings.push({
        kind: 'projection',
        name: p.name,
        status: p.status,
        events: p.lag,
        seconds: ageOf(oldest, now()),
      });
    }
    const { rows } = await sql.query<{ name: string; c: string | null; p: string | null }>(
      'SELECT name, checkpoint_commit AS c, checkpoint_prepare AS p FROM td_reactors ORDER BY name',
    );
    for (const r of rows) {
      const from = r.c === null ? startOfLog : { commit: BigInt(r.c), prepare: BigInt(r.p ?? '0') };
      const { count, oldest } = await eventsAfter(log, from, limit);
      readings.push({ kind: 'reactor', name: r.name, events: count, seconds: ageOf(oldest, now()) });
    }
    return readings;
  };
};

export interface LagGaugeOptions {
  readonly source?: LagSource;
  /** A scrape waits this long for the database at most, then goes without the lag. Default 2000 ms. */
  readonly timeoutMs?: number;
  readonly logger?: { debug(obj: object, msg: string): void };
}

/**
 * Registers the lag gauges. One reading serves all four gauges of a scrape; when the database does
 * not answer in time the gauges are left out of that scrape rather than failing it.
 */
export const lagGauges = (registry: client.Registry, options: LagGaugeOptions = {}): void => {
  const { source, timeoutMs = 2000, logger } = options;
  const read = scrapeReading<LagReading[]>({
    ...(source ? { source } : {}),
    timeoutMs,
    fallback: [],
    ...(logger ? { logger } : {}),
    skipped: 'lag metrics skipped: the log or the database did not answer',
  });

  const gauge = (name: string, help: string, kind: LagReading['kind'], value: (r: LagReading) => number) => {
    const label = kind === 'projection' ? 'projection' : 'reactor';
    new client.Gauge({
      name,
      help,
      labelNames: kind === 'projection' ? ['projection', 'status'] : ['reactor'],
      registers: [registry],
      async collect() {
        const readings = (await read()).filter((r) => r.kind === kind);
        this.reset();
        for (const r of readings) {
          this.set({ [label]: r.name, ...(r.status ? { status: r.status } : {}) }, value(r));
        }
      },
    });
  };
  gauge(
    'topicdesk_projection_lag_events',
    'Events in the log not yet applied to a read model (by projection and generation status; counted up to a cap)',
    'projection',
    (r) => r.events,
  );
  gauge(
    'topicdesk_projection_lag_seconds',
    'Age of the oldest event not yet applied to a read model; 0 when caught up',
    'projection',
    (r) => r.seconds,
  );
  gauge(
    'topicdesk_reactor_lag_events',
    'Events in the log not yet handled by a reactor (telegram, vk, webhooks; counted up to a cap)',
    'reactor',
    (r) => r.events,
  );
  gauge(
    'topicdesk_reactor_lag_seconds',
    'Age of the oldest event not yet handled by a reactor; 0 when caught up',
    'reactor',
    (r) => r.seconds,
  );
};
