// topicdesk_deliveries_total: answers (and their edits and deletions) carried to clients, by the
// outcome each reactor recorded in the log.
import client from 'prom-client';
import type { DeliveryReport } from '../reactor-outcomes.ts';

export const deliveryCounter = (registry: client.Registry): ((report: DeliveryReport) => void) => {
  const counter = new client.Counter({
    name: 'topicdesk_deliveries_total',
    help: 'Delivery outcomes recorded for answers to clients, by channel, operation (send, edit, delete) and outcome (delivered, retry, failed)',
    labelNames: ['channel', 'operation', 'outcome'],
    registers: [registry],
  });
  return (r) => counter.inc({ channel: r.channel, operation: r.operation, outcome: r.outcome });
};
