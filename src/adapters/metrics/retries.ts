// Rate limits met on the way out: Telegram's 429s (from the outgoing limiter's retry hook) and VK's
// flood control (from the VK reactor's), with the time each retry was told or chose to wait.
import client from 'prom-client';
import type { RetryInfo } from '../telegram/limiter.ts';
import type { VkRetryInfo } from '../vk/reactor-context.ts';

// From a retry_after of a second to a backoff of minutes.
const WAIT_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** VK's "too many requests per second", "flood control" and "rate limit" errors. */
const VK_FLOOD_CODES = new Set([6, 9, 29]);

export const telegramRetryMetrics = (registry: client.Registry): ((info: RetryInfo) => void) => {
  const rateLimited = new client.Counter({
    name: 'topicdesk_telegram_rate_limited_total',
    help: 'Telegram Bot API calls answered 429 Too Many Requests, by method',
    labelNames: ['method'],
    registers: [registry],
  });
  const wait = new client.Histogram({
    name: 'topicdesk_telegram_retry_wait_seconds',
    help: 'Wait before retrying a Telegram call: retry_after of a 429, backoff after a 5xx or a network failure',
    labelNames: ['reason'],
    buckets: WAIT_BUCKETS,
    registers: [registry],
  });
  return (info) => {
    if (info.reason === '429') rateLimited.inc({ method: info.method });
    wait.observe({ reason: info.reason }, info.waitMs / 1000);
  };
};

export const vkRetryMetrics = (registry: client.Registry): ((info: VkRetryInfo) => void) => {
  const rateLimited = new client.Counter({
    name: 'topicdesk_vk_rate_limited_total',
    help: 'VK deliveries refused by flood control (VK errors 6, 9, 29), by operation',
    labelNames: ['operation'],
    registers: [registry],
  });
  const wait = new client.Histogram({
    name: 'topicdesk_vk_retry_wait_seconds',
    help: 'Backoff before retrying a VK delivery, by reason (flood: errors 6, 9, 29; error: any other passing failure)',
    labelNames: ['reason'],
    buckets: WAIT_BUCKETS,
    registers: [registry],
  });
  return (info) => {
    const flood = info.code !== undefined && VK_FLOOD_CODES.has(info.code);
    if (flood) rateLimited.inc({ operation: info.operation });
    wait.observe({ reason: flood ? 'flood' : 'error' }, info.waitMs / 1000);
  };
};
