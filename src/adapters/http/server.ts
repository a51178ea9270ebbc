// The HTTP server: routes and request validation generated from openapi/ (design first),
// the document at /openapi.json and Swagger UI at /docs.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
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
import type { Histogram, Registry } from 'prom-client';
import { type Redact, redactSecrets } from '../logging/redact.ts';
import { badRequest, PROBLEM_JSON, problem } from './problem.ts';
import type { RouteDefinition, RouteHandler } from './routes.ts';

// Also importable from here, as the routes written before problem.ts and routes.ts do.
export { badRequest, problem } from './problem.ts';
export type { RouteDefinition, RouteHandler } from './routes.ts';

export const specificationPath = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../openapi/openapi.yaml',
);

export type ReadinessCheck = () => Promise<void>;

/** What the server reports each request to, and serves at GET /metrics. */
export interface HttpMetrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
}

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

export interface MultipartOptions {
  /** Largest file part, in bytes: beyond it the request is answered 413. */
  readonly maxFileBytes: number;
  /** Most file parts in one request: beyond it 413. */
  readonly maxFiles: number;
}

/** A file part of a multipart body, written to a file of its own (the body's field holds only its name). */
export interface UploadedPart {
  readonly field: string;
  readonly fileName: string;
  readonly mimeType: string;
  /** The part's bytes on disk; the file is removed when the response is done and the handler has returned. */
  readonly path: string;
  readonly size: number;
}

// Multipart bodies besides file parts: at most 50 fields of 64 KiB and 100 parts, each part's
// headers at most 80 KiB (busboy's limit). A Content-Length beyond the files' limits plus this
// room cannot be a body the limits accept, so it is refused before a byte of it is read.
const MAX_FIELDS = 50;
const MAX_FIELD_BYTES = 64 * 1024;
const MAX_PARTS = 100;
const PART_HEADER_BYTES = 80 * 1024;
const MULTIPART_ROOM = 12 * 1024 * 1024;
if (MAX_FIELDS * MAX_FIELD_BYTES + MAX_PARTS * PART_HEADER_BYTES > MULTIPART_ROOM)
  throw new Error('MULTIPART_ROOM is too small');

/**
 * A multipart request's spooled files: their directory (made at the first file part) is removed once
 * every holder let go — the response (when it is sent or the connection closes) and the handler
 * (when it returns), after the writes in progress have ended.
 */
interface Spool {
  dir?: Promise<string>;
  readonly parts: UploadedPart[];
  readonly writes: Set<Promise<unknown>>;
  holders: number;
  /** Let go by all: no part is written any more. */
  closed: boolean;
}

const spools = new WeakMap<FastifyRequest, Spool>();
/** Requests whose file parts are refused before they are read (see refuseFileParts). */
const refusals = new WeakMap<FastifyRequest, PartsRefused>();
/** Requests whose body was parsed and validated: an error after that is the server's, not the body's. */
const bodyAccepted = new WeakSet<FastifyRequest>();

/** The file parts of a multipart request, in the order they came. */
export const uploadedParts = (request: FastifyRequest): readonly UploadedPart[] =>
  spools.get(request)?.parts ?? [];

/** The answer to a multipart request whose file parts cannot be taken (the rest is not parsed). */
export class PartsRefused extends Error {
  override readonly name = 'PartsRefused';
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/**
 * Refuses the request's file parts (e.g. no file store): its first file part ends the request with
 * this answer instead of being read; text fields before it cost at most their limits.
 */
export const refuseFileParts = (request: FastifyRequest, refusal: PartsRefused): void => {
  refusals.set(request, refusal);
};

const letGo = (spool: Spool): void => {
  spool.holders -= 1;
  if (spool.holders > 0) return;
  spool.closed = true;
  if (!spool.dir) return;
  const dir = spool.dir;
  void Promise.allSettled([...spool.writes])
    .then(() => dir)
    .then((path) => rm(path, { recursive: true, force: true }))
    .catch(() => undefined); // mkdtemp failed: nothing was written
};

/** Field names whose file parts validate as their file name (the contract's binary strings). */
const FILE_FIELDS = new Set(['files', 'uploaded_file']);

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
    const maxBodyBytes = maxFiles * maxFileBytes + MULTIPART_ROOM;
    // A spool for each multipart request, held by its response until that is sent or cut off.
    app.addHook('onRequest', async (request, reply) => {
      if (mediaTypeOf(request) !== 'multipart/form-data') return;
      const spool: Spool = { parts: [], writes: new Set(), holders: 1, closed: false };
      spools.set(request, spool);
      reply.raw.once('close', () => letGo(spool));
    });
    // Bodies no limit could accept are refused on their declared length, unread.
    app.addHook('preParsing', async (request, reply, payload) => {
      if (reply.sent || mediaTypeOf(request) !== 'multipart/form-data') return payload;
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        // Unread, the body is dropped by Node once the answer is sent.
        await problem(
          reply,
          413,
          'Payload Too Large',
          `the body (${declared} bytes) is larger than any this route takes: ${maxBodyBytes} bytes ` +
            '(API_MAX_FILES × API_MAX_FILE_BYTES and 12 MiB for the text fields)',
        );
      }
      return payload;
    });
    await app.register(multipart, {
      attachFieldsToBody: 'keyValues',
      limits: {
        fileSize: maxFileBytes,
        files: maxFiles,
        fields: MAX_FIELDS,
        fieldSize: MAX_FIELD_BYTES,
        parts: MAX_PARTS,
      },
      // Each file part is written to a file of its own as it arrives (never held in memory) and
      // kept beside the body; the body's field gets the file's name, so the contract's schema (an
      // array of binary strings) validates it. A file sent in a field that is not a file field is
      // made an object, which fails that field's validation.
      async onFile(this: FastifyRequest, part: MultipartFile & { value?: unknown }) {
        const refusal = refusals.get(this);
        if (refusal) throw refusal;
        const spool = spools.get(this);
        if (!spool || spool.closed) throw new Error('a file part after its request ended');
        // Files go under the system's temporary directory (TMPDIR), one directory per request.
        spool.dir ??= mkdtemp(join(tmpdir(), 'topicdesk-upload-'));
        const written = spool.dir.then(async (dir) => {
          if (spool.closed) throw new Error('a file part after its request ended');
          const path = join(dir, String(spool.parts.length));
          await pipeline(part.file, createWriteStream(path, { flags: 'wx' }));
          return path;
        });
        spool.writes.add(written);
        let path: string;
        try {
          path = await written;
        } catch (error) {
          // The disk's failure (full, not writable), not the body's: nothing is recorded, retry.
          if (!(error as { syscall?: string }).syscall) throw error;
          this.log.error({ err: error }, 'an upload could not be spooled to disk');
          throw new PartsRefused(
            503,
            'the upload could not be kept on disk for now; nothing was recorded — retry',
          );
        } finally {
          spool.writes.delete(written);
        }
        if (part.file.truncated) throw new app.multipartErrors.RequestFileTooLargeError();
        spool.parts.push({
          field: part.fieldname,
          fileName: part.filename || 'file',
          mimeType: part.mimetype || 'application/octet-stream',
          path,
          size: part.file.bytesRead,
        });
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
      const handler = holdingSpool(typeof h === 'function' ? h : h.handler);
      return (
        typeof h === 'function' ? { handler } : { handler, onRequest: [...(h.onRequest ?? [])] }
      ) as never;
    },
  });
  return app;
};

/**
 * Errors Node meets before a request reaches Fastify (a request not in within its time, headers too
 * large, bytes that are not HTTP), answered as problems too, then the connection is closed. Nothing
 * is written when the answer to the request had begun (Node's own rule).
 */
const clientError =
  (requestTimeoutMs: number, log: Logger) =>
  (error: Error & { code?: string }, socket: Socket): void => {
    // As Fastify's own handler does: at debug level (the logger scrubs the bytes the error carries).
    log.debug({ err: error }, 'client error');
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, detail] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, `the request did not arrive within ${requestTimeoutMs} ms (HTTP_REQUEST_TIMEOUT_MS)`]
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'the request headers are too large']
          : [400, 'not a valid HTTP request'];
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (socket.writable && !answering) {
      const title = STATUS_CODES[status] ?? 'Error';
      const body = JSON.stringify({ type: 'about:blank', title, status, detail });
      socket.write(
        `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  };

/** The handler keeps its request's spooled files while it runs, even if the client is gone. */
const holdingSpool =
  (handler: RouteHandler): RouteHandler =>
  async (request, reply) => {
    const spool = spools.get(request);
    if (!spool) return handler(request, reply);
    spool.holders += 1;
    try {
      return await handler(request, reply);
    } finally {
      letGo(spool);
    }
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
