// GET /webhooks/failed: the source's webhook deliveries that failed, given up or still retried.
import { listFailedDeliveries } from '../../webhooks/deliveries.ts';
import type { Handler } from './context.ts';

export const listFailedWebhookDeliveries: Handler = async (ctx, request, reply, source) => {
  const q = request.query as { limit?: number; after?: string; include_retrying?: boolean };
  const limit = q.limit ?? 50;
  const deliveries = await listFailedDeliveries(ctx.pool, source.code, {
    limit,
    ...(q.after !== undefined ? { after: q.after } : {}),
    ...(q.include_retrying !== undefined ? { includeRetrying: q.include_retrying } : {}),
  });
  const last = deliveries.at(-1);
  // A full page may have more behind it; its last id is where the next one starts.
  return reply.send({
    deliveries,
    next_cursor: deliveries.length === limit && last ? last.delivery_id : null,
  });
};
