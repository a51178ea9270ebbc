// Signed webhooks to a source (docs/design.md, "Webhooks to a source"):
//   X-Topicdesk-Signature: t=<unix seconds>,d=<delivery id>,v1=<hex HMAC-SHA256(secret, "<t>.<d>.<body>")>
// The timestamp lets a receiver refuse a replay; the delivery id is signed too, so a replayed body
// cannot be passed off as a new delivery to a receiver that de-duplicates on it. During a secret
// rotation's grace period the header carries one v1 per secret (the new one first); a receiver
// accepts the request when any of them matches the secret it holds.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Topicdesk-Signature';
/** The same values as the signature's t= and d=, for receivers that only log or route on them. */
export const TIMESTAMP_HEADER = 'X-Topicdesk-Timestamp';
export const DELIVERY_HEADER = 'X-Topicdesk-Delivery';
export const USER_AGENT = 'topicdesk-webhooks/2.0';

/** How old a timestamp verifyWebhook accepts by default, either way (clock skew). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const hmacHex = (secret: string, timestamp: string, deliveryId: string, body: string | Uint8Array): string =>
  createHmac('sha256', secret).update(`${timestamp}.${deliveryId}.`).update(body).digest('hex');

/**
 * The `X-Topicdesk-Signature` value of `body` sent at `timestamp` (unix seconds) as delivery
 * `deliveryId`, with one v1 entry per secret (the current secret first).
 */
export const signatureHeader = (
  secrets: readonly string[],
  timestamp: number,
  deliveryId: string,
  body: string | Uint8Array,
): string =>
  [
    `t=${timestamp}`,
    `d=${deliveryId}`,
    ...secrets.map((s) => `v1=${hmacHex(s, String(timestamp), deliveryId, body)}`),
  ].join(',');

export interface VerifyOptions {
  /** Refuse timestamps further than this from `now` (seconds). Default 300; `Infinity` turns the check off. */
  readonly toleranceSeconds?: number;
  /** The receiver's clock. Default: the system clock. */
  readonly now?: Date;
}

export interface VerifiedWebhook {
  readonly timestamp: number;
  /** De-duplicate on this: the same on every retry of one delivery. */
  readonly deliveryId: string;
}

/**
 * Checks a request as a receiver should: the raw body exactly as received (before any JSON
 * parsing), the `X-Topicdesk-Signature` header, the secret (`whsec_…`). Returns the signed
 * timestamp and delivery id, or undefined when the header is malformed, no v1 matches, or the
 * timestamp is not recent.
 */
export const verifyWebhook = (
  secret: string,
  header: string | null | undefined,
  body: string | Uint8Array,
  options: VerifyOptions = {},
): VerifiedWebhook | undefined => {
  if (!header) return undefined;
  let t: string | undefined;
  let d: string | undefined;
  const given: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') t = value;
    else if (key === 'd') d = value;
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) given.push(Buffer.from(value, 'hex'));
  }
  if (!t || !/^\d{1,12}$/.test(t) || !d || given.length === 0) return undefined;
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - Number(t)) > tolerance) return undefined;
  const expected = Buffer.from(hmacHex(secret, t, d, body), 'hex');
  return given.some((g) => timingSafeEqual(g, expected))
    ? { timestamp: Number(t), deliveryId: d }
    : undefined;
};
