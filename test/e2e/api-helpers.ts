// Helpers of the external API's end-to-end tests: a source with a live token, and a small client
// that speaks to /api/external the way any HTTP client would.
import { authenticate, createSource } from '../../src/adapters/sources/sources.ts';
import { type Harness, waitFor } from '../support/app-harness.ts';

export interface ApiSource {
  readonly code: string;
  readonly token: string;
  readonly tokenId: string;
}

/** Registers a source and waits until the API accepts its token (the sources projection ran). */
export const newSource = async (h: Harness, code: string): Promise<ApiSource> => {
  const t = await createSource(h.app.log, code, null);
  await waitFor(`the token of ${code}`, async () =>
    (await authenticate(h.app.db.pool, t.token)) ? true : undefined,
  );
  return { code, token: t.token, tokenId: t.tokenId };
};

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface CallOptions {
  /** Sent as JSON. */
  readonly json?: unknown;
  /** Sent as multipart/form-data. */
  readonly form?: FormData;
  /** Sent as is (with `headers` naming its type). */
  readonly raw?: string | Buffer;
  readonly headers?: Record<string, string>;
  /** Override the source's token (null: no Authorization header). */
  readonly token?: string | null;
}

export const client = (h: Harness, source?: ApiSource) => {
  const call = async <T = unknown>(
    method: string,
    path: string,
    o: CallOptions = {},
  ): Promise<ApiResponse<T>> => {
    const token = o.token === undefined ? source?.token : o.token;
    const headers: Record<string, string> = {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(o.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...o.headers,
    };
    const body = o.json !== undefined ? JSON.stringify(o.json) : (o.form ?? o.raw);
    const res = await fetch(`${h.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    if (/json/.test(res.headers.get('content-type') ?? '') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T };
  };
  return {
    call,
    get: <T = unknown>(path: string, o?: CallOptions) => call<T>('GET', path, o),
    post: <T = unknown>(path: string, o?: CallOptions) => call<T>('POST', path, o),
    put: <T = unknown>(path: string, o?: CallOptions) => call<T>('PUT', path, o),
    del: <T = unknown>(path: string, o?: CallOptions) => call<T>('DELETE', path, o),
  };
};

/** Events appended on a source's behalf (the API's own writes; reactors append as `system`). */
export const sourceEventCount = async (h: Harness): Promise<number> =>
  (
    await h.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM td_events WHERE metadata->'actor'->>'kind' = 'source'`,
    )
  ).rows[0]!.n;

/**
 * Harness settings of these tests: no rate limit unless a test sets one, and writes wait long for
 * the read model (a loaded CI machine must not turn a 201 into a 202).
 */
export const apiEnv = (env: Record<string, string> = {}): Record<string, string> => ({
  API_RATE_LIMIT_PER_MINUTE: '1000000',
  API_WRITE_WAIT_MS: '20000',
  ...env,
});

export interface Message {
  id: string;
  external_id: string;
  direction: 'incoming' | 'outgoing';
  text: string;
  attachments: Array<{
    id: string;
    kind: string;
    file_name: string | null;
    mime_type: string | null;
    size: number | null;
    url: string | null;
  }>;
  reply_to: string | null;
  status: string;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  recorded_at: string | null;
  cursor: number;
}

export interface Page {
  messages: Message[];
  next_cursor: number | null;
  has_more: boolean;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  errors?: Array<{ field: string; message: string }>;
}

/** The fields a 400 names. */
export const fieldsOf = (p: Problem): string[] => [...new Set((p.errors ?? []).map((e) => e.field))].sort();
