// The HTTP server: routes and request validation generated from openapi/ (design first),
// the document at /openapi.json and Swagger UI at /docs.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import openapiGlue from 'fastify-openapi-glue';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.ts';

export const specificationPath = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../openapi/openapi.yaml',
);

export type ReadinessCheck = () => Promise<void>;

export interface HttpServerOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  /** Handlers of the document's other operations, by operationId (channels add theirs). */
  readonly handlers?: Readonly<Record<string, RouteHandler>>;
}

export type RouteHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export const problem = (
  reply: FastifyReply,
  status: number,
  title: string,
  detail?: string,
  extra: object = {},
) =>
  reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title, status, ...(detail ? { detail } : {}), ...extra });

export const createHttpServer = async (options: HttpServerOptions): Promise<FastifyInstance> => {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // One line per request at debug level (below) instead of Fastify's two at info.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array' } },
  });

  app.addHook('onResponse', async (request, reply) => {
    options.metrics.httpDuration
      .labels(request.method, request.routeOptions.url ?? 'unmatched', String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
      'request',
    );
  });

  app.setNotFoundHandler((request, reply) =>
    problem(reply, 404, 'Not Found', `${request.method} ${request.url}`),
  );
  app.setErrorHandler(
    (
      error: Error & { validation?: unknown[]; validationContext?: string; statusCode?: number },
      request,
      reply,
    ) => {
      if (error.validation) {
        return problem(reply, 400, 'Bad Request', 'the request does not match the API contract', {
          errors: (
            error.validation as Array<{ instancePath: string; message?: string; params?: object }>
          ).map((v) => ({
            field: v.instancePath.replace(/^\//, '').replaceAll('/', '.') || requestPart(error),
            message: v.message ?? 'is invalid',
          })),
        });
      }
      const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      return problem(reply, status, status >= 500 ? 'Internal Server Error' : error.name, error.message);
    },
  );

  await app.register(swagger, {
    mode: 'static',
    specification: { path: specificationPath, baseDir: dirname(specificationPath) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const serviceHandlers = {
    async getHealth() {
      return { status: 'ok' };
    },
    async getReadiness(_request: FastifyRequest, reply: FastifyReply) {
      const checks: Record<string, string> = {};
      await Promise.all(
        Object.entries(options.readiness).map(async ([name, check]) => {
          checks[name] = await check().then(
            () => 'ok',
            (e: unknown) => (e instanceof Error ? e.message : String(e)) || 'failed',
          );
        }),
      );
      const ready = Object.values(checks).every((c) => c === 'ok');
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
    },
    async getMetrics(_request: FastifyRequest, reply: FastifyReply) {
      return reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
    },
  };
  await app.register(openapiGlue, {
    specification: specificationPath,
    serviceHandlers: { ...serviceHandlers, ...options.handlers },
  });
  return app;
};

const requestPart = (error: { validationContext?: string }) => error.validationContext ?? 'body';
