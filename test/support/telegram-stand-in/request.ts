// Reading a Bot API request the way Telegram does: parameters may come in the query string, as
// JSON, as application/x-www-form-urlencoded or as multipart/form-data (uploads, `attach://name`).
// Form values are strings; they are typed here per parameter name, as the Bot API does.
import { badRequest, errors } from './errors.ts';

export interface UploadedFile {
  readonly part: string;
  readonly filename: string;
  readonly contentType: string;
  readonly data: Buffer;
}

const JSON_FIELDS = new Set([
  'entities',
  'caption_entities',
  'reply_parameters',
  'reply_markup',
  'media',
  'options',
  'message_ids',
  'allowed_updates',
  'commands',
  'scope',
  'link_preview_options',
  'question_entities',
  'explanation_entities',
  'correct_option_ids',
]);
const INT_FIELDS = new Set([
  'chat_id',
  'from_chat_id',
  'message_id',
  'message_thread_id',
  'reply_to_message_id',
  'user_id',
  'offset',
  'limit',
  'timeout',
  'duration',
  'width',
  'height',
  'length',
  'icon_color',
  'max_connections',
  'live_period',
  'heading',
  'proximity_alert_radius',
  'correct_option_id',
  'open_period',
  'close_date',
]);
const FLOAT_FIELDS = new Set(['latitude', 'longitude', 'horizontal_accuracy']);
const BOOL_FIELDS = new Set([
  'disable_notification',
  'protect_content',
  'allow_sending_without_reply',
  'is_anonymous',
  'allows_multiple_answers',
  'has_spoiler',
  'drop_pending_updates',
  'remove_caption',
  'supports_streaming',
  'show_caption_above_media',
  'is_closed',
  'disable_content_type_detection',
  'disable_web_page_preview',
]);

const normalize = (key: string, value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  if (JSON_FIELDS.has(key) && /^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  if (INT_FIELDS.has(key) && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  if (FLOAT_FIELDS.has(key) && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  if (BOOL_FIELDS.has(key)) return /^(true|1)$/i.test(value.trim());
  return value;
};

const headerParam = (header: string, name: string): string | undefined => {
  const m = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\r\\n]*))`, 'i').exec(
    header,
  );
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]?.trim();
};

/** multipart/form-data, tolerant of grammY's compact headers (`content-disposition:form-data;name="x"`). */
export const parseMultipart = (body: Buffer, contentType: string) => {
  const boundary = headerParam(contentType, 'boundary');
  const fields: Record<string, string> = {};
  const files = new Map<string, UploadedFile>();
  if (!boundary) throw badRequest('invalid multipart/form-data request');
  const delimiter = Buffer.from(`--${boundary}`);
  const between = Buffer.from(`\r\n--${boundary}`);
  let pos = body.indexOf(delimiter);
  if (pos < 0) return { fields, files };
  pos += delimiter.length;
  while (pos < body.length) {
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break; // closing "--"
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) break;
    const next = body.indexOf(between, headerEnd + 4);
    if (next < 0) break;
    const headers = new Map<string, string>();
    for (const line of body.subarray(pos, headerEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const disposition = headers.get('content-disposition') ?? '';
    const name = headerParam(disposition, 'name');
    const filename = headerParam(disposition, 'filename');
    const content = body.subarray(headerEnd + 4, next);
    if (name !== undefined) {
      if (filename !== undefined) {
        files.set(name, {
          part: name,
          filename,
          contentType: headers.get('content-type') ?? 'application/octet-stream',
          data: Buffer.from(content),
        });
      } else fields[name] = content.toString('utf8');
    }
    pos = next + between.length;
  }
  return { fields, files };
};

export interface ParsedRequest {
  params: Record<string, unknown>;
  uploads: Map<string, UploadedFile>;
}

export const parseRequest = (
  body: Buffer,
  contentType: string | undefined,
  query: URLSearchParams,
): ParsedRequest => {
  const params: Record<string, unknown> = {};
  let uploads = new Map<string, UploadedFile>();
  for (const [k, v] of query) params[k] = normalize(k, v);
  const type = (contentType ?? '').toLowerCase();
  if (body.length > 0) {
    if (type.startsWith('application/json')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw badRequest("can't parse JSON-encoded request body");
      }
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        for (const [k, v] of Object.entries(parsed)) params[k] = normalize(k, v);
    } else if (type.startsWith('multipart/form-data')) {
      const { fields, files } = parseMultipart(body, contentType ?? '');
      for (const [k, v] of Object.entries(fields)) params[k] = normalize(k, v);
      uploads = files;
    } else if (type.startsWith('application/x-www-form-urlencoded') || type === '') {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params[k] = normalize(k, v);
    }
  }
  return { params, uploads };
};

/** Typed access to one call's parameters, with Telegram's answers for missing or malformed ones. */
export class Args {
  constructor(
    readonly raw: Record<string, unknown>,
    readonly uploads: Map<string, UploadedFile>,
  ) {}

  has(key: string): boolean {
    const v = this.raw[key];
    return v !== undefined && v !== null;
  }

  str(key: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }

  int(key: string): number | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'number' ? v : Number(String(v).trim());
    if (!Number.isFinite(n)) throw badRequest(`invalid ${key} specified`);
    return Math.trunc(n);
  }

  num(key: string): number | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null || v === '') return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }

  requireInt(key: string): number {
    const n = this.int(key);
    if (n === undefined || n === 0) throw errors.empty(key);
    return n;
  }

  bool(key: string): boolean {
    const v = this.raw[key];
    return v === true || v === 1 || (typeof v === 'string' && /^(true|1)$/i.test(v));
  }

  json<T>(key: string): T | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') return v as T;
    try {
      return JSON.parse(v) as T;
    } catch {
      throw badRequest(`can't parse ${key.replace(/_/g, ' ')} JSON object`);
    }
  }

  chatId(key = 'chat_id'): number | string {
    const v = this.raw[key];
    if (v === undefined || v === null || v === '') throw errors.empty(key);
    if (typeof v === 'number') return v;
    const s = String(v).trim();
    return /^-?\d+$/.test(s) ? Number(s) : s;
  }
}
