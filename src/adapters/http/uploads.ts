// Multipart uploads: each file part spooled to a file of its own under TMPDIR, the limits that
// answer 413, and the spool's lifetime (removed once the response and the handler let go).
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart, { type MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { problem } from './problem.ts';
import type { RouteHandler } from './routes.ts';
import { mediaTypeOf } from './validation.ts';

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

/** Spools multipart requests' file parts within the limits (createHttpServer's multipart option). */
export const registerUploads = async (app: FastifyInstance, options: MultipartOptions): Promise<void> => {
  const { maxFileBytes, maxFiles } = options;
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
};

/** The handler keeps its request's spooled files while it runs, even if the client is gone. */
export const holdingSpool =
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

export const tooLargeDetail = (
  error: { code?: string; message: string },
  multipartOptions?: MultipartOptions,
) => {
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
