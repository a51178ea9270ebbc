// The HTTP server: routes and request validation generated from openapi/ (design first),
// the document at /openapi.json and Swagger UI at /docs.
import { STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import multipart, { type MultipartFile } from '@fastify/multipart';
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
import { type Redact, redactSecrets } from '../logging/redact.ts';
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
  readonly handlers?: Readonly<Record<string, RouteHandler | RouteDefinition>>;
  /** multipart/form-data bodies (for operations that declare them). */
  readonly multipart?: MultipartOptions;
  /** Scrubs secrets from error answers (the configured ones too); default: their shapes only. */
  readonly redact?: Redact;
}

export type RouteHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** A handler with route-level hooks (authentication and rate limits run before the body is read). */
export interface RouteDefinition {
  readonly handler: RouteHandler;
  readonly onRequest?: readonly RouteHandler[];
}

export interface MultipartOptions {
  /** Largest file part, in bytes: beyond it the request is answered 413. */
  readonly maxFileBytes: number;
  /** Most file parts in one request: beyond it 413. */
  readonly maxFiles: number;
}

/** A file part of a multipart body, read into memory (the body's field holds only its name). */
export interface UploadedPart {
  readonly field: string;
  readonly fileName: string;
  readonly mimeType: string;
  readonly data: Buffer;
}

const uploadsOf = new WeakMap<FastifyRequest, UploadedPart[]>();
/** Requests whose body was parsed and validated: an error after that is the server's, not the body's. */
const bodyAccepted = new WeakSet<FastifyRequest>();

/** The file parts of a multipart request, in the order they came. */
export const uploadedParts = (request: FastifyRequest): readonly UploadedPart[] =>
  uploadsOf.get(request) ?? [];

/** Field names whose file parts validate as their file name (the contract's binary strings). */
const FILE_FIELDS = new Set(['files', 'uploaded_file']);

/** A 400 naming fields, the same shape validation errors get. */
export const badRequest = (
  reply: FastifyReply,
  errors: ReadonlyArray<{ field: string; message: string }>,
  detail = 'the request does not match the API contract',
) => problem(reply, 400, 'Bad Request', detail, { errors });

const PROBLEM_JSON = 'application/problem+json';

export const problem = (
  reply: FastifyReply,
  status: number,
  title: string,
  detail?: string,
  extra: object = {},
) =>
  reply
    .code(status)
    .type(PROBLEM_JSON)
    .send({ type: 'about:blank', title, status, ...(detail ? { detail } : {}), ...extra });

const mediaTypeOf = (request: FastifyRequest): string | undefined =>
  request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() || undefined;

const hasBody = (request: FastifyRequest): boolean =>
  request.headers['transfer-encoding'] !== undefined ||
  (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');

type OpenApiDocument = {
  paths?: Record<
    string,
    Record<string, { requestBody?: { content?: object }; responses?: Record<string, { content?: object }> }>
  >;
  components?: { responses?: Record<string, { content?: object }> };
};

/** Media types the contract names only for responses, never for a request body. */
const responseOnlyMediaTypes = (doc: OpenApiDocument): string[] => {
  const requests = new Set<string>();
  const responses = new Set<string>();
  const add = (into: Set<string>, content?: object) => {
    for (const media of Object.keys(content ?? {})) into.add(media.toLowerCase());
  };
  for (const operations of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      if (typeof operation !== 'object' || operation === null) continue;
      add(requests, operation.requestBody?.content);
      for (const response of Object.values(operation.responses ?? {})) add(responses, response.content);
    }
  }
  for (const response of Object.values(doc.components?.responses ?? {})) add(responses, response.content);
  return [...responses].filter((media) => !requests.has(media));
};

/** The media types a route's body schema declares; undefined when the route takes no body. */
const declaredMediaTypes = (request: FastifyRequest): string[] | undefined => {
  const body = (request.routeOptions.schema as { body?: { content?: Record<string, unknown> } } | undefined)
    ?.body;
  if (!body) return undefined;
  return body.content ? Object.keys(body.content).map((t) => t.toLowerCase()) : ['application/json'];
};

type AjvError = {
  instancePath: string;
  keyword?: string;
  message?: string;
  params?: { missingProperty?: string; additionalProperty?: string };
};

const PARTS = [
  ['params', 'params', 'params'],
  ['body', 'body', 'body'],
  ['querystring', 'query', 'query'],
  ['headers', 'headers', 'headers'],
] as const;

const fieldOf = (prefix: string, v: AjvError): string => {
  const path = v.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  const named = v.params?.missingProperty ?? v.params?.additionalProperty;
  if (named !== undefined) path.push(named);
  return [prefix, ...path].join('.');
};

const messageOf = (v: AjvError): string =>
  v.keyword === 'additionalProperties'
    ? 'is not a known field'
    : v.keyword === 'required'
      ? 'is required'
      : (v.message ?? 'is invalid');

/**
 * Every bad field of every part (Fastify stops at the first part that fails): the route's compiled
 * validators are run again on params, body, query and headers.
 */
const allValidationErrors = (
  request: FastifyRequest,
  error: { validation?: unknown[]; validationContext?: string },
): Array<{ field: string; message: string }> => {
  const out: Array<{ field: string; message: string }> = [];
  for (const [part, property, prefix] of PARTS) {
    let validate = request.getValidationFunction(part) as unknown;
    if (validate && typeof validate === 'object') {
      const media = mediaTypeOf(request);
      validate = media ? (validate as Record<string, unknown>)[media] : undefined;
    }
    if (typeof validate !== 'function') continue;
    const fn = validate as ((data: unknown) => boolean) & { errors?: AjvError[] | null };
    const data = (request as unknown as Record<string, unknown>)[property];
    let ok: boolean;
    try {
      ok = fn(data === undefined ? null : data);
    } catch {
      continue;
    }
    if (!ok) for (const v of fn.errors ?? []) out.push({ field: fieldOf(prefix, v), message: messageOf(v) });
  }
  if (out.length > 0) return dedupe(out);
  const context = error.validationContext === 'querystring' ? 'query' : (error.validationContext ?? 'body');
  return dedupe(
    ((error.validation ?? []) as AjvError[]).map((v) => ({
      field: fieldOf(context, v),
      message: messageOf(v),
    })),
  );
};

const dedupe = (errors: Array<{ field: string; message: string }>) => {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.field}\n${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
};

type RouteSchema = { schema: Record<string, unknown>; httpPart?: string; contentType?: string };
type BuildValidator = (
  externalSchemas: unknown,
  options: { customOptions: Record<string, unknown> },
) => (route: RouteSchema) => unknown;

// Fastify's own Ajv compiler (a dependency of fastify, resolved from there).
const ajvCompiler = createRequire(createRequire(import.meta.url).resolve('fastify'))(
  '@fastify/ajv-compiler',
) as () => BuildValidator;

/**
 * Two Ajv instances: query strings, path parameters, headers and multipart fields are text, so
 * their values are coerced to the declared types (`limit=5` is a number); a JSON body says what it
 * means, so `{"text": 42}` is a 400, not the message "42".
 */
const buildValidator: BuildValidator = (externalSchemas, options) => {
  const factory = ajvCompiler();
  const coercing = factory(externalSchemas, options);
  const strict = factory(externalSchemas, {
    ...options,
    customOptions: { ...options.customOptions, coerceTypes: false },
  });
  return (route) => {
    if (route.httpPart === 'headers') return coercing({ ...route, schema: lowerCaseHeaders(route.schema) });
    const json = route.httpPart === 'body' && route.contentType !== 'multipart/form-data';
    return (json ? strict : coercing)(route);
  };
};

/** Request headers arrive lower-cased (Fastify's default compiler does this itself). */
const lowerCaseHeaders = (schema: Record<string, unknown>): Record<string, unknown> => {
  const properties = schema.properties as Record<string, unknown> | undefined;
  const required = schema.required as string[] | undefined;
  return {
    ...schema,
    ...(properties
      ? { properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k.toLowerCase(), v])) }
      : {}),
    ...(required ? { required: required.map((r) => r.toLowerCase()) } : {}),
  };
};

export const createHttpServer = async (options: HttpServerOptions): Promise<FastifyInstance> => {
  const app = Fastify({
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
    if (!media || !declared.includes(media)) {
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
    const { maxFileBytes, maxFiles } = options.multipart;
    await app.register(multipart, {
      attachFieldsToBody: 'keyValues',
      limits: { fileSize: maxFileBytes, files: maxFiles, fields: 50, fieldSize: 64 * 1024, parts: 100 },
      // Files are read into memory and kept beside the body; the body's field gets the file's name,
      // so the contract's schema (an array of binary strings) validates it. A file sent in a field
      // that is not a file field is made an object, which fails that field's validation.
      async onFile(this: FastifyRequest, part: MultipartFile & { value?: unknown }) {
        const data = await part.toBuffer();
        const list = uploadsOf.get(this) ?? [];
        list.push({
          field: part.fieldname,
          fileName: part.filename || 'file',
          mimeType: part.mimetype || 'application/octet-stream',
          data,
        });
        uploadsOf.set(this, list);
        part.value = FILE_FIELDS.has(part.fieldname) ? part.filename || 'file' : { file: part.filename };
      },
    });
  }

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
  };
  const all: Record<string, RouteHandler | RouteDefinition> = { ...serviceHandlers, ...options.handlers };
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
      return (
        typeof h === 'function' ? { handler: h } : { handler: h.handler, onRequest: [...(h.onRequest ?? [])] }
      ) as never;
    },
  });
  return app;
};

const tooLargeDetail = (error: { code?: string; message: string }, multipartOptions?: MultipartOptions) => {
  switch (error.code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return `a file is larger than ${multipartOptions?.maxFileBytes} bytes (API_MAX_FILE_BYTES)`;
    case 'FST_FILES_LIMIT':
      return `more than ${multipartOptions?.maxFiles} files (API_MAX_FILES)`;
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'the body is larger than 1 MiB';
    default:
      return error.message;
  }
};
