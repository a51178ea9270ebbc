// Who waits and how fast first answers come, read from the read models when Prometheus scrapes
// (docs/design.md, "Reports"): every instance exports the same figures, a restart loses nothing, and
// a rebuild of the reports projection gives the same histogram. The first-response histogram is
// cumulative over all conversations, so rate() and histogram_quantile() work on it as on any other.

import type pg from 'pg';
import client from 'prom-client';
import { type WaitingNow, waitingNow } from '../../projections/read-models/reports-query.ts';
import { scrapeReading } from './scrape-reading.ts';

/** Upper bounds of the first-response buckets, seconds: 30 s to two days. */
export const FIRST_RESPONSE_BUCKETS = [
  30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800,
] as const;

export interface FirstResponseCounts {
  /** Conversations whose first answer came within each bucket's bound (cumulative, as Prometheus wants). */
  readonly buckets: readonly number[];
  readonly count: number;
  readonly sum: number;
}

export interface ReportReading {
  readonly waiting: WaitingNow;
  readonly firstResponse: FirstResponseCounts;
}

export type ReportSource = () => Promise<ReportReading>;

/** Reads both from PostgreSQL: rm_conversations' waiting index and rm_report_conversations' first answers. */
export const createReportSource =
  (pool: Pick<pg.Pool, 'query'>, now: () => Date = () => new Date()): ReportSource =>
  async () => {
    const bounds = FIRST_RESPONSE_BUCKETS.map(
      (b, i) => `count(*) FILTER (WHERE first_response_business_s <= ${b}) AS b${i}`,
    );
    const { rows } = await pool.query<Record<string, string | null>>(
      `SELECT ${bounds.join(', ')}, count(*) AS n, coalesce(sum(first_response_business_s), 0) AS total
       FROM rm_report_conversations WHERE first_response_at IS NOT NULL`,
    );
    const r = rows[0]!;
    return {
      waiting: await waitingNow(pool, now()),
      firstResponse: {
        buckets: FIRST_RESPONSE_BUCKETS.map((_, i) => Number(r[`b${i}`])),
        count: Number(r.n),
        sum: Number(r.total),
      },
    };
  };

export interface ReportMetricsOptions {
  readonly source?: ReportSource;
  /** A scrape waits this long for the database at most, then goes without these metrics. Default 2000 ms. */
  readonly timeoutMs?: number;
  readonly logger?: { debug(obj: object, msg: string): void };
}

interface Sample {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

/** A metric prom-client's registry can hold whose samples are computed when scraped. */
interface ScrapedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  get(): Promise<Omit<ScrapedMetric, 'get' | 'reset'> & { readonly values: readonly Sample[] }>;
  reset(): void;
}

export const reportMetrics = (registry: client.Registry, options: ReportMetricsOptions = {}): void => {
  const { source, timeoutMs = 2000, logger } = options;
  const read = scrapeReading<ReportReading | undefined>({
    ...(source ? { source } : {}),
    timeoutMs,
    fallback: undefined,
    ...(logger ? { logger } : {}),
    skipped: 'report metrics skipped: the database did not answer',
  });

  const gauge = (name: string, help: string, value: (w: WaitingNow) => number | null) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const reading = await read();
        this.reset();
        const v = reading ? value(reading.waiting) : null;
        if (v !== null) this.set(v);
      },
    });
  gauge(
    'topicdesk_conversations_waiting',
    "Open conversations whose client's last message has no manager's answer",
    (w) => w.waiting,
  );
  gauge(
    'topicdesk_conversations_waiting_unassigned',
    'Waiting conversations nobody is assigned to',
    (w) => w.unassigned,
  );
  gauge(
    'topicdesk_oldest_waiting_seconds',
    'How long the longest-waiting client has waited (0 when nobody waits)',
    (w) => (w.waiting === 0 ? 0 : w.oldest_waiting_s),
  );

  const name = 'topicdesk_first_response_seconds';
  const histogram: ScrapedMetric = {
    name,
    help: "Time from a conversation's first client message to the first manager's answer (working hours when set), all conversations",
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const reading = await read();
      const f = reading?.firstResponse;
      const values: Sample[] = f
        ? [
            ...FIRST_RESPONSE_BUCKETS.map((le, i) => ({
              metricName: `${name}_bucket`,
              labels: { le },
              value: f.buckets[i]!,
            })),
            { metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: f.count },
            { metricName: `${name}_sum`, labels: {}, value: f.sum },
            { metricName: `${name}_count`, labels: {}, value: f.count },
          ]
        : [];
      return { name, help: histogram.help, type: 'histogram', aggregator: 'sum', values };
    },
    reset() {},
  };
  registry.registerMetric(histogram as unknown as client.Metric<string>);
};
