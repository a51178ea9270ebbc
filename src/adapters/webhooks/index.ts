// Webhooks to a source (docs/design.md, "Webhooks to a source"): the reactor that queues
// deliveries, the scheduler that posts them, and what sources' developers need to check a
// delivery's signature.
export {
  deliveryIdOf,
  type FailedDelivery,
  listFailedDeliveries,
  webhookDeliveriesMigration,
} from './deliveries.ts';
export type { WebhookOutcome } from './delivery-outcomes.ts';
export { backoffMs, defaultRetryPolicy } from './delivery-policy.ts';
export type { MessageResource, WebhookEventName, WebhookPayload } from './message-resource.ts';
export { webhookOutcomeCounter } from './metrics.ts';
export { createWebhookReactor, WEBHOOK_ACTOR_ID } from './reactor.ts';
export { startWebhookScheduler, type WebhookScheduler } from './scheduler.ts';
export {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signatureHeader,
  TIMESTAMP_HEADER,
  type VerifiedWebhook,
  verifyWebhook,
} from './signature.ts';
