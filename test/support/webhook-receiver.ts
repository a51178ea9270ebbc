// A source's webhook endpoint, as a source would run one: records every request and answers what the
// test says — a status (with a body of the test's, if it says one), or nothing at all ('hang', until
// the receiver closes).
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CheckedWebhookUrl,
  checkWebhookUrl,
  parsePrivateAddressPolicy,
} from '../../src/adapters/webhooks/address-guard.ts';

/**
 * WEBHOOK_ALLOW_PRIVATE as the tests set it: the receivers listen on loopback, which the service
 * refuses by default, so the tests allow exactly that address, as an operator would.
 */
export const RECEIVER_ALLOWANCE = '127.0.0.1';
export const receiverPolicy = parsePrivateAddressPolicy(RECEIVER_ALLOWANCE);

export interface ReceivedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** What was answered. */
  readonly status: number | 'hang';
  /** Answered 2xx. */
  readonly ok: boolean;
  /** Date.now() when the request had arrived whole. */
  readonly at: number;
}

/** A status (with a short text body), a whole answer, or nothing at all. */
export type Reply = number | 'hang' | { status: number; body?: string; headers?: Record<string, string> };

/** The answer to the `n`-th request (1-based) on `path`. */
export type Answer = (path: string, n: number) => Reply;

export const startWebhookReceiver = async (answer: Answer = () => 200) => {
  const received: ReceivedRequest[] = [];
  const rules = new Map<string, (n: number) => Reply>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = received.filter((r) => r.path === path).length + 1;
      const reply = rules.get(path)?.(n) ?? answer(path, n);
      const status = typeof reply === 'object' ? reply.status : reply;
      const body = Buffer.concat(chunks).toString('utf8');
      const ok = status !== 'hang' && status >= 200 && status < 300;
      received.push({ path, headers: req.headers, body, status, ok, at: Date.now() });
      if (status === 'hang') {
        hanging.add(res);
        return;
      }
      const headers = typeof reply === 'object' ? (reply.headers ?? {}) : {};
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(
        typeof reply === 'object' && reply.body !== undefined
          ? reply.body
          : status < 300
            ? 'ok'
            : 'receiver is down',
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;
  return {
    url,
    /** The URL of `path` as a source is registered with it: checked under RECEIVER_ALLOWANCE. */
    hook: (path: string): Promise<CheckedWebhookUrl> => checkWebhookUrl(url(path), receiverPolicy),
    /** Every request, in arrival order. */
    received,
    at: (path: string) => received.filter((r) => r.path === path),
    /** From now on, answer requests on `path` by this rule (before the receiver's own `answer`). */
    on: (path: string, rule: (n: number) => Reply) => rules.set(path, rule),
    /** Requests held without an answer. */
    hanging: () => hanging.size,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
