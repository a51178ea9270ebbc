// The service's own operations: liveness (/healthz), readiness with each dependency's check
// (/readyz) and the Prometheus metrics (/metrics).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Histogram, Registry } from 'prom-client';

export type ReadinessCheck = () => Promise<void>;

/** What the server reports each request to, and serves at GET /metrics. */
export interface HttpMetrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
}

/** Handlers of getHealth, getReadiness and getMetrics, by operationId. */
export const serviceHandlers = (options: {
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  readonly metrics: HttpMetrics;
}) => ({
  async getHealth() {
    return { status: 'ok' };
  },
  // Which check failed, not how: a dependency's error text (addresses, user names, whatever its
  // driver puts in) is for the log, not for whoever can reach /readyz.
  async getReadiness(request: FastifyRequest, reply: FastifyReply) {
    const checks = Object.fromEntries(
      await Promise.all(
        Object.entries(options.readiness).map(async ([name, check]) => {
          try {
            await check();
            return [name, 'ok'] as const;
          } catch (err) {
            request.log.warn({ check: name, err }, 'readiness check failed');
            return [name, 'failed'] as const;
          }
        }),
      ),
    );
    const ready = Object.values(checks).every((c) => c === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
  },
  async getMetrics(_request: FastifyRequest, reply: FastifyReply) {
    return reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  },
});
