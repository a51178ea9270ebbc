// Files through the external API: Telegram is the file store. A multipart upload holds a slot while
// its parts are spooled and sent on; a download streams the file back from Telegram.
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from 'grammy';
import type { Attachment } from '../../../domain/events.ts';
import { problem } from '../../http/problem.ts';
import { PartsRefused, refuseFileParts, type UploadedPart } from '../../http/uploads.ts';
import type { AuthenticatedSource } from '../../sources/sources.ts';
import { cleanFileName, cleanMimeType, contentDisposition } from '../params.ts';
import { findAttachment } from '../read-model.ts';
import { FileRefusedError, type FileStore } from '../telegram-files.ts';
import { busy, type ExternalContext, FILE_TIMEOUT_MS, fail, type Handler, NO_FILE_STORE } from './context.ts';

/** The multipart fields that carry a message's files (`uploaded_file`: tg-support-bot v3's name). */
export const FILE_FIELDS = new Set(['files', 'uploaded_file']);

/**
 * Uploads: a slot per multipart request for as long as it lasts (its parts are spooled to disk and
 * sent on to Telegram); without a file store its file parts are refused before they are read.
 */
export const uploadGuard = async (ctx: ExternalContext, request: FastifyRequest, reply: FastifyReply) => {
  const source = ctx.sources.get(request);
  if (!source || request.headers['content-type']?.toLowerCase().startsWith('multipart/') !== true)
    return undefined;
  if (!ctx.files) {
    refuseFileParts(request, new PartsRefused(503, NO_FILE_STORE));
    return undefined;
  }
  const slot = ctx.uploads.take(source.tokenId);
  if ('refused' in slot) return busy(reply, ctx.uploads, slot.refused, 'uploads', 'too_many_uploads');
  reply.raw.once('close', slot.release);
  return undefined;
};

/** Sends the parts to the file store, all within one timeout; a refusal answers (nothing is recorded). */
export const storeUploads = async (
  ctx: ExternalContext,
  reply: FastifyReply,
  source: AuthenticatedSource,
  externalId: string,
  parts: readonly UploadedPart[],
): Promise<Attachment[]> => {
  const attachments: Attachment[] = [];
  if (parts.length === 0) return attachments;
  const files: FileStore | undefined = ctx.files;
  if (!files) return fail(problem(reply, 503, 'Service Unavailable', NO_FILE_STORE));
  const signal = AbortSignal.timeout(FILE_TIMEOUT_MS);
  for (const part of parts) {
    try {
      attachments.push(
        await files.store(
          {
            fileName: cleanFileName(part.fileName),
            mimeType: cleanMimeType(part.mimeType),
            path: part.path,
            size: part.size,
          },
          `📎 ${source.code} · ${externalId} (upload; removed automatically)`,
          signal,
        ),
      );
    } catch (error) {
      if (error instanceof FileRefusedError) return fail(problem(reply, 502, 'Bad Gateway', error.message));
      if (signal.aborted || error instanceof HttpError) {
        ctx.logger.warn({ err: error }, 'external api: a file upload to Telegram failed');
        return fail(
          problem(
            reply.header('Retry-After', '5'),
            503,
            'Service Unavailable',
            'Telegram (the file store) did not take the file in time; nothing was recorded — retry',
          ),
        );
      }
      throw error;
    }
  }
  return attachments;
};

/** GET /files/{fileId}: only a file of this source's messages; the bytes stream from Telegram. */
export const getFile: Handler = async (ctx, request, reply, source) => {
  const { fileId } = request.params as { fileId: string };
  const attachment = await findAttachment(ctx.pool, source.code, fileId);
  if (!attachment?.fileRef) return problem(reply, 404, 'Not Found', 'no such file');
  if (!ctx.files) return problem(reply, 503, 'Service Unavailable', NO_FILE_STORE);
  let download: Awaited<ReturnType<FileStore['open']>>;
  try {
    download = await ctx.files.open(attachment.fileRef, AbortSignal.timeout(FILE_TIMEOUT_MS));
  } catch (error) {
    if (error instanceof FileRefusedError) return problem(reply, 502, 'Bad Gateway', error.message);
    ctx.logger.warn({ err: error }, 'external api: a file download from Telegram failed');
    return problem(
      reply.header('Retry-After', '5'),
      503,
      'Service Unavailable',
      'Telegram (the file store) did not answer; retry',
    );
  }
  reply
    .type(cleanMimeType(attachment.mimeType))
    .header('X-Content-Type-Options', 'nosniff')
    .header('Content-Disposition', contentDisposition(attachment.fileName));
  if (download.size !== undefined) reply.header('Content-Length', String(download.size));
  return reply.send(Readable.fromWeb(download.body as never));
};
