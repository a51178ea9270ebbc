// Sending one webhook: the URL's host resolved and checked at every attempt (address-guard.ts), the
// body signed (signature.ts), one POST to the addresses that passed, and the receiver's answer told
// apart: any 2xx is success; a redirect, another status, a refusal, a timeout or a broken
// connection is a failure whose reason the source may read (only the status, never the body).
import http from 'node:http';
import https from 'node:https';
import { type SourceState, signingSecrets } from '../../domain/source.ts';
import type { RunnerLogger } from '../../projections/runner.ts';
import { createRedactor } from '../logging/redact.ts';
import {
  checkWebhookTarget,
  type PrivateAddressPolicy,
  type Resolve,
  WebhookAddressError,
} from './address-guard.ts';
import type { DeliveryRow } from './deliveries.ts';
import { pinnedPost } from './pinned-post.ts';
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signatureHeader,
  TIMESTAMP_HEADER,
  USER_AGENT,
} from './signature.ts';

export interface PostContext {
  /** How long a receiver has to answer (real time). */
  readonly timeoutMs: number;
  readonly allowPrivate: PrivateAddressPolicy;
  readonly resolve: Resolve;
  /** Kept-alive connections, shared by every attempt. */
  readonly agents: Agents;
  /** Aborted by stop(): a request in progress is cut short. */
  readonly stopping: AbortSignal;
  readonly logger: RunnerLogger;
}

export interface PostResult {
  readonly ok: boolean;
  readonly status?: number;
  readonly reason: string;
  /** The request was cut short by stop(): no outcome to record. */
  readonly aborted?: boolean;
}

/** A source whose webhook URL is set: the only kind a delivery is posted to. */
export type WebhookSource = SourceState & { webhookUrl: string };

/** Keep-alive agents, one per protocol; stop() destroys them. */
export interface Agents {
  readonly http: http.Agent;
  readonly https: https.Agent;
}

export const createAgents = (): Agents => ({
  http: new http.Agent({ keepAlive: true }),
  https: new https.Agent({ keepAlive: true }),
});

/** The attempt, its reason scrubbed: a reason is logged and recorded in the log for good. */
export const postDelivery = async (
  ctx: PostContext,
  source: WebhookSource,
  row: DeliveryRow,
  payload: unknown,
  at: Date,
): Promise<PostResult> => {
  const result = await attemptPost(ctx, source, row, payload, at);
  // A reason may quote a secret (a URL with credentials in it names its target in an error).
  return { ...result, reason: createRedactor(signingSecrets(source, at))(result.reason) };
};

const attemptPost = async (
  ctx: PostContext,
  source: WebhookSource,
  row: DeliveryRow,
  payload: unknown,
  at: Date,
): Promise<PostResult> => {
  let target: Awaited<ReturnType<typeof checkWebhookTarget>>;
  try {
    // Resolved and checked now, at every attempt; the request connects only to what passed.
    target = await checkWebhookTarget(source.webhookUrl, ctx.allowPrivate, ctx.resolve);
  } catch (error) {
    if (!(error instanceof WebhookAddressError)) throw error;
    // The operator's log names the address; the source is told only that it was refused.
    ctx.logger.warn(
      { deliveryId: row.delivery_id, source: row.source, detail: error.message },
      'webhook refused: its address is not allowed',
    );
    return { ok: false, reason: `refused: ${error.publicReason}` };
  }
  const body = JSON.stringify(payload);
  const timestamp = Math.floor(at.getTime() / 1000);
  const timeout = AbortSignal.timeout(ctx.timeoutMs);
  try {
    const answer = await pinnedPost(target, {
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': USER_AGENT,
        [SIGNATURE_HEADER]: signatureHeader(signingSecrets(source, at), timestamp, row.delivery_id, body),
        [TIMESTAMP_HEADER]: String(timestamp),
        [DELIVERY_HEADER]: row.delivery_id,
      },
      body,
      signal: AbortSignal.any([timeout, ctx.stopping]),
      agents: ctx.agents,
    });
    return classifyAnswer(answer.status);
  } catch (error) {
    if (ctx.stopping.aborted) return { ok: false, reason: 'stopped', aborted: true };
    if (timeout.aborted) return { ok: false, reason: `no answer within ${ctx.timeoutMs} ms` };
    return { ok: false, reason: errorText(error) };
  }
};

/**
 * Only the status is kept: what a receiver answers never reaches the source's failure list (it
 * could be an internal service's page). A redirect is a failure: a signed request is not re-sent
 * somewhere else.
 */
export const classifyAnswer = (status: number): PostResult => {
  const ok = status >= 200 && status < 300;
  const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
  return { ok, status, reason: `HTTP ${status}${redirect}` };
};

const errorText = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  return code ? `connection failed: ${code}` : `connection failed: ${error.message}`;
};
