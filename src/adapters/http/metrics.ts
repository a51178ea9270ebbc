// Prometheus metrics: one registry per app instance so tests can run several apps in one process.
import client from 'prom-client';

export interface Metrics {
  readonly registry: client.Registry;
  readonly httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  readonly eventsAppended: client.Counter<'type'>;
}

export const createMetrics = (): Metrics => {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'topicdesk_' });
  return {
    registry,
    httpDuration: new client.Histogram({
      name: 'topicdesk_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    eventsAppended: new client.Counter({
      name: 'topicdesk_events_appended_total',
      help: 'Events appended to the log, by type',
      labelNames: ['type'],
      registers: [registry],
    }),
  };
};
