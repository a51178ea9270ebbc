// The HTTP server: routes and request validation generated from openapi/ (design first),
// the document at /openapi.json and Swagger UI at /docs.
import { STATUS_CODES } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import openapiGlue from 'fastify-openapi-glue';
import type { Logger } from 'pino';
import { type Redact, redactSecrets } from '../logging/redact.ts';
import { clientError } from './client-errors.ts';
import { badRequest, PROBLEM_JSON, problem } from './problem.ts';
import { type RouteDefinition, type RouteHandler, takesForms } from './routes.ts';
import { type HttpMetrics, type ReadinessCheck, serviceHandlers } from './service-routes.ts';
import {
  holdingSpool,
  type MultipartOptions,
  PartsRefused,
  registerUploads,
  tooLargeDetail,
} from './uploads.ts';
import {
  allValidationErrors,
  buildValidator,
  declaredMediaTypes,
  hasBody,
  mediaTypeOf,
  type OpenApiDocument,
  responseOnlyMediaTypes,
} from './validation.ts';

export const specificationPath = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../openapi/openapi.yaml',
);

export interface HttpServerOptions {
  readonly logger: Logger;
  readonly metrics: HttpMetrics;
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  /** Handlers of the document's other operations, by operationId (channels add theirs). */
  readonly handlers?: Readonly<Record<string, RouteHandler | RouteDefinition>>;
  /** multipart/form-data bodies (for operations that declare them). */
  readonly multipart?: MultipartOptions;
  /** Scrubs secrets from error answers (the configured ones too); default: their shapes only. */
  readonly redact?: Redact;
  /**
   * How long a client may take to send a whole request, headers and body (HTTP_REQUEST_TIMEOUT_MS);
   * a request still arriving then is cut off (408). Answers may take longer: a long poll's wait
   * starts once its request is in.
   */
  readonly requestTimeoutMs?: number;
}

const FORM = 'application/x-www-form-urlencoded';

/** Requests whose body was parsed and validated: an error after that is the server's, not the body's. */
const bodyAccepted = new WeakSet<FastifyRequest>();

export const createHttpServer = async (options: HttpServerOptions): Promise<FastifyInstance> => {
  const requestTimeout = options.requestTimeoutMs ?? 0;
  const app = Fastify({
    requestTimeout,
    http: {
      // Node looks for requests over their time every connectionsCheckingInterval (30 s by default):
      // often enough that a short timeout is kept within a quarter of itself. Headers get the same
      // time at most (Node's 60 s otherwise).
      ...(requestTimeout > 0
        ? {
            connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(requestTimeout / 4))),
            headersTimeout: Math.min(60_000, requestTimeout),
          }
        : {}),
    },
    clientErrorHandler: clientError(requestTimeout, options.logger.child({ component: 'http' })),
    schemaController: { compilersFactory: { buildValidator: buildValidator as never } },
    // Long path parameters reach validation (a 400 naming them) instead of Fastify's bare 414.
    routerOptions: { maxParamLength: 1000 },
    frameworkErrors: (error, _request, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      if (status === 400)
        return badRequest(reply, [{ field: 'params', message: error.message }], error.message);
      return problem(reply, status, STATUS_CODES[status] ?? 'Error', error.message);
    },
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

  // Error answers quote what they were given (a URL, an error's message): no secret goes back out.
  const redact = options.redact ?? redactSecrets;
  app.addHook('onSend', async (_request, reply, payload) =>
    typeof payload === 'string' && String(reply.getHeader('content-type')).startsWith(PROBLEM_JSON)
      ? redact(payload)
      : payload,
  );

  app.setNotFoundHandler((request, reply) =>
    problem(reply, 404, 'Not Found', `${request.method} ${request.url}`),
  );
  app.setErrorHandler(
    (
      error: Error & {
        validation?: unknown[];
        validationContext?: string;
        statusCode?: number;
        code?: string;
      },
      request,
      reply,
    ) => {
      if (error.validation) {
        return badRequest(reply, allValidationErrors(request, error));
      }
      // A multipart body refused part-way is not parsed further: the rest is read and dropped, never
      // kept, so a client still sending gets to read the answer (closing the connection instead
      // makes it fail with EPIPE); HTTP_REQUEST_TIMEOUT_MS bounds how long that may take.
      if (mediaTypeOf(request) === 'multipart/form-data' && !request.raw.readableEnded) {
        request.raw.unpipe();
        request.raw.resume();
      }
      if (error instanceof PartsRefused) {
        return problem(reply, error.status, STATUS_CODES[error.status] ?? 'Error', error.detail);
      }
      let status =
        error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
      // @fastify/multipart answers a malformed JSON field with 406; it is a bad request.
      if (status === 406) status = 400;
      // Busboy's complaints about a malformed multipart body ("Boundary not found", "Unexpected end
      // of form") carry no status; they come before the body is accepted.
      if (status === 500 && !bodyAccepted.has(request) && mediaTypeOf(request)?.startsWith('multipart/')) {
        return badRequest(reply, [
          { field: 'body', message: `is not valid multipart/form-data: ${error.message}` },
        ]);
      }
      if (status >= 500) {
        request.log.error({ err: error }, 'request failed');
        return problem(reply, status, STATUS_CODES[status] ?? 'Internal Server Error', 'the request failed');
      }
      const title = STATUS_CODES[status] ?? 'Error';
      if (status === 400) {
        return badRequest(reply, [{ field: 'body', message: error.message }], error.message);
      }
      if (status === 413) {
        return problem(reply, 413, title, tooLargeDetail(error, options.multipart));
      }
      return problem(reply, status, title, error.message);
    },
  );

  // Bodies only in the media types the contract declares for the operation: anything else would
  // skip validation (Fastify validates per declared content type), so it is refused before parsing.
  app.addHook('preParsing', async (request, reply, payload) => {
    const declared = declaredMediaTypes(request);
    if (!declared) return payload;
    if (!hasBody(request)) {
      await badRequest(reply, [{ field: 'body', message: 'is required' }]);
      return payload;
    }
    const media = mediaTypeOf(request);
    const form = media === FORM && takesForms.has(request) && declared.includes('application/json');
    if (!form && (!media || !declared.includes(media))) {
      await problem(
        reply,
        415,
        'Unsupported Media Type',
        `${media ?? 'a body without Content-Type'} is not accepted here; use ${declared.join(' or ')}`,
      );
    }
    return payload;
  });

  app.addHook('preHandler', async (request) => {
    bodyAccepted.add(request);
  });

  if (options.multipart) {
    await registerUploads(app, options.multipart);
  }
  // HTML form bodies, taken only where takesForms lets them in (routes.ts); 1 MiB like JSON.
  app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );

  await app.register(swagger, {
    mode: 'static',
    specification: { path: specificationPath, baseDir: dirname(specificationPath) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const all: Record<string, RouteHandler | RouteDefinition> = {
    ...serviceHandlers(options),
    ...options.handlers,
  };
  // The glue warns at every start about each media type in the contract that no request parser
  // takes, responses' types included (problem+json, the file download, the docs page). Those are
  // never request bodies here: a body sent in one is refused with 415, as any undeclared type is.
  for (const media of responseOnlyMediaTypes(app.swagger() as OpenApiDocument)) {
    app.addContentTypeParser(media, (_request, _payload, done) =>
      done(
        Object.assign(new Error(`${media} is not accepted as a request body`), { statusCode: 415 }),
        undefined,
      ),
    );
  }
  await app.register(openapiGlue, {
    specification: specificationPath,
    // An object per operation, so a route can carry its own hooks; an operationId without a handler
    // answers 500 (the glue's "not implemented"), which the tests of every route would catch.
    // (The glue's types want full route options; it takes any subset and adds method, url, schema.)
    operationResolver: (operationId: string) => {
      const h = all[operationId];
      if (h === undefined) return undefined as never;
      const handler = holdingSpool(typeof h === 'function' ? h : h.handler);
      return (
        typeof h === 'function'
          ? { handler }
          : {
              handler,
              onRequest: [...(h.onRequest ?? [])],
              ...(h.attachValidation ? { attachValidation: true } : {}),
              ...(h.config ? { config: h.config } : {}),
            }
      ) as never;
    },
  });
  return app;
};
