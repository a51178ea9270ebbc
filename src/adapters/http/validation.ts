// The contract's request validation: the media types a request may come in, the two Ajv compilers
// (coercing for text, strict for JSON), and validation failures as a list of bad fields.
import { createRequire } from 'node:module';
import type { FastifyRequest } from 'fastify';

export const mediaTypeOf = (request: FastifyRequest): string | undefined =>
  request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() || undefined;

export const hasBody = (request: FastifyRequest): boolean =>
  request.headers['transfer-encoding'] !== undefined ||
  (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');

export type OpenApiDocument = {
  paths?: Record<
    string,
    Record<string, { requestBody?: { content?: object }; responses?: Record<string, { content?: object }> }>
  >;
  components?: { responses?: Record<string, { content?: object }> };
};

/** Media types the contract names only for responses, never for a request body. */
export const responseOnlyMediaTypes = (doc: OpenApiDocument): string[] => {
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
export const declaredMediaTypes = (request: FastifyRequest): string[] | undefined => {
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

/** A compiled Ajv validator, as Fastify keeps it per route and part. */
type Validate = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

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
export const allValidationErrors = (
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
    const fn = validate as Validate;
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

const pointerOf = (key: string) => `/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;

/**
 * Ajv coerces a text such as `1e309` to Infinity and then lets it pass `integer` and `maximum` (a
 * number it did not coerce is refused): a coerced value that is not a finite number is refused here.
 */
const finiteAfterCoercion = (validate: Validate): Validate => {
  const checked: Validate = (data) => {
    const ok = validate(data);
    checked.errors = validate.errors;
    if (!ok || typeof data !== 'object' || data === null) return ok;
    const bad: AjvError[] = [];
    const infinite = (at: string, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v))
        bad.push({ instancePath: at, keyword: 'type', message: 'must be a finite number' });
    };
    for (const [key, value] of Object.entries(data)) {
      if (!Array.isArray(value)) infinite(pointerOf(key), value);
      else for (const [i, v] of value.entries()) infinite(`${pointerOf(key)}/${i}`, v);
    }
    if (bad.length === 0) return true;
    checked.errors = bad;
    return false;
  };
  return checked;
};

/**
 * Two Ajv instances: query strings, path parameters, headers and multipart fields are text, so
 * their values are coerced to the declared types (`limit=5` is a number); a JSON body says what it
 * means, so `{"text": 42}` is a 400, not the message "42".
 */
export const buildValidator: BuildValidator = (externalSchemas, options) => {
  const factory = ajvCompiler();
  const compile = factory(externalSchemas, options);
  const coercing = (route: RouteSchema) => finiteAfterCoercion(compile(route) as Validate);
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
