// Prometheus metrics: one registry per app instance so tests can run several apps in one process.
// Every metric the app exports is declared from here, so the registry this returns is the full list
// (the Grafana dashboard's test reads its names from it).
import client from 'prom-client';
import type { DeliveryReport } from '../reactor-outcomes.ts';
import type { RetryInfo } from '../telegram/limiter.ts';
import type { VkRetryInfo } from '../vk/reactor-context.ts';
import type { WebhookOutcome } from '../webhooks/delivery-outcomes.ts';
import { webhookOutcomeCounter } from '../webhooks/metrics.ts';
import { type CommandTiming, commandDurations } from './commands.ts';
import { deliveryCounter } from './deliveries.ts';
import { type LagGaugeOptions, lagGauges } from './lag.ts';
import { type ReportMetricsOptions, reportMetrics } from './reports.ts';
import { telegramRetryMetrics, vkRetryMetrics } from './retries.ts';

export interface Metrics {
  readonly registry: client.Registry;
  readonly httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  readonly eventsAppended: client.Counter<'type'>;
  /** Hooks the adapters report to. */
  readonly onAppended: (type: string) => void;
  readonly onDelivery: (report: DeliveryReport) => void;
  readonly onCommand: (timing: CommandTiming) => void;
  readonly onTelegramRetry: (info: RetryInfo) => void;
  readonly onVkRetry: (info: VkRetryInfo) => void;
  readonly onWebhookOutcome: (outcome: WebhookOutcome) => void;
}

/**
 * The main thread's busy time (event loop utilisation's active part), read at each scrape. Node runs
 * every request, command and projection batch on that one thread: a rate near 1 means work queues.
 */
const eventLoopBusy = (registry: client.Registry) => {
  let seen = performance.eventLoopUtilization().active;
  new client.Counter({
    name: 'topicdesk_event_loop_busy_seconds_total',
    help: "Time this process's main thread was busy (not waiting for I/O or timers); its rate is the thread's utilisation, 1 when full",
    registers: [registry],
    collect() {
      const active = performance.eventLoopUtilization().active;
      this.inc((active - seen) / 1000);
      seen = active;
    },
  });
};

/**
 * `lag`: where the projection and reactor lag gauges read from at scrape time; `reports`: where the
 * waiting gauges and the first-response histogram do (none: no values).
 */
export const createMetrics = (
  options: { lag?: LagGaugeOptions; reports?: ReportMetricsOptions } = {},
): Metrics => {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'topicdesk_' });
  const eventsAppended = new client.Counter({
    name: 'topicdesk_events_appended_total',
    help: 'Events appended to the log by this instance, by type',
    labelNames: ['type'],
    registers: [registry],
  });
  eventLoopBusy(registry);
  lagGauges(registry, options.lag);
  reportMetrics(registry, options.reports);
  return {
    registry,
    httpDuration: new client.Histogram({
      name: 'topicdesk_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    eventsAppended,
    onAppended: (type) => eventsAppended.inc({ type }),
    onDelivery: deliveryCounter(registry),
    onCommand: commandDurations(registry),
    onTelegramRetry: telegramRetryMetrics(registry),
    onVkRetry: vkRetryMetrics(registry),
    onWebhookOutcome: webhookOutcomeCounter(registry),
  };
};
