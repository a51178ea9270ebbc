// Signed webhooks to a source (SPEC §5): `X-Topicdesk-Signature: sha256=<hex HMAC-SHA256(secret,
// "<timestamp>.<body>")>` with the timestamp (unix seconds) sent in `X-Topicdesk-Timestamp`. Signing
// the timestamp with the body lets a receiver refuse a replayed request; the source's secret is the
// `webhookSecret` of its stream (`whsec_…`, shown by sources:create).
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Topicdesk-Signature';
export const TIMESTAMP_HEADER = 'X-Topicdesk-Timestamp';
export const DELIVERY_HEADER = 'X-Topicdesk-Delivery';
export const USER_AGENT = 'topicdesk-webhooks/1.0';

/** How old a timestamp verifySignature accepts by default, either way (clock skew). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const hmacHex = (secret: string, timestamp: number | string, body: string | Uint8Array): string =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');

/** The `X-Topicdesk-Signature` value for `body` sent at `timestamp` (unix seconds): `sha256=<hex>`. */
export const signPayload = (secret: string, timestamp: number | string, body: string | Uint8Array): string =>
  `sha256=${hmacHex(secret, timestamp, body)}`;

export interface VerifyOptions {
  /** Refuse timestamps further than this from `now` (seconds). Default 300; `Infinity` turns the check off. */
  readonly toleranceSeconds?: number;
  /** The receiver's clock. Default: the system clock. */
  readonly now?: Date;
}

/**
 * Whether a request is a genuine delivery: the signature header (`sha256=<hex>`, or several values
 * separated by commas, e.g. during a secret rotation) matches the raw body and the timestamp header,
 * and the timestamp is recent. Pass the body exactly as received, before any JSON parsing.
 */
export const verifySignature = (
  secret: string,
  timestamp: string | number | null | undefined,
  body: string | Uint8Array,
  signature: string | null | undefined,
  options: VerifyOptions = {},
): boolean => {
  if (timestamp === null || timestamp === undefined || !signature) return false;
  const ts = String(timestamp).trim();
  if (!/^\d{1,12}$/.test(ts)) return false;
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - Number(ts)) > tolerance) return false;
  const expected = Buffer.from(hmacHex(secret, ts, body), 'hex');
  return signature.split(',').some((part) => {
    const m = /^\s*sha256=([0-9a-fA-F]{64})\s*$/.exec(part);
    if (!m) return false;
    const given = Buffer.from(m[1]!, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
};
