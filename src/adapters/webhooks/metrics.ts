// Prometheus counters for webhook deliveries, fed by the scheduler's onOutcome hook.
import client from 'prom-client';
import type { WebhookOutcome } from './delivery-outcomes.ts';

/** Registers `topicdesk_webhook_deliveries_total{source,outcome}` and returns the hook that counts. */
export const webhookOutcomeCounter = (registry: client.Registry): ((o: WebhookOutcome) => void) => {
  const counter = new client.Counter({
    name: 'topicdesk_webhook_deliveries_total',
    help: 'Webhook delivery attempts to sources, by outcome (delivered, retry, failed)',
    labelNames: ['source', 'outcome'],
    registers: [registry],
  });
  return (o) => counter.inc({ source: o.source, outcome: o.outcome });
};
