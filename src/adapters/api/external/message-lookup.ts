// Finding a source's own message: in the read model (what it lists), in the log through the command
// handler's reader (recorded, perhaps not listed yet), and waiting for the read model after a write.
import type { FastifyReply } from 'fastify';
import type { LogPosition } from '../../../domain/event-log.ts';
import { problem } from '../../http/problem.ts';
import type { AuthenticatedSource } from '../../sources/sources.ts';
import { type ApiMessageRow, findMessage } from '../read-model.ts';
import { conversationOf, type ExternalContext, fail } from './context.ts';

/** The message as the log has it (recorded, perhaps not listed yet). */
export const recordedMessage = async (ctx: ExternalContext, conversationId: string, messageId: string) =>
  (
    await ctx.handler.reader.read(conversationId, { messageIds: [messageId], fresh: true })
  ).state.messages.get(messageId);

/** The row of a message of this source's client, or a 404 (another source's is not found either). */
export const requireOwnMessage = async (
  ctx: ExternalContext,
  reply: FastifyReply,
  source: AuthenticatedSource,
  externalId: string,
  messageId: string,
): Promise<ApiMessageRow> => {
  const row = await findMessage(ctx.pool, source.code, conversationOf(source, externalId), messageId);
  return row ?? fail(problem(reply, 404, 'Not Found', `no message ${messageId} for ${externalId}`));
};

/** A row that shows a write recorded at `revision` (0: any row of the message). */
export const atRevision =
  (revision: number) =>
  (row: ApiMessageRow): boolean =>
    Number(row.revision) >= revision;

/**
 * Waits (up to projectionWaitMs) until the read model shows the message as `ready` says.
 * With the log position of the write, it waits for the projection's checkpoint to pass it and
 * looks the row up once; without, it looks again whenever the read model moves on.
 */
export const awaitRow = async (
  ctx: ExternalContext,
  source: AuthenticatedSource,
  conversationId: string,
  messageId: string,
  ready: (row: ApiMessageRow) => boolean,
  position?: LogPosition,
): Promise<ApiMessageRow | undefined> => {
  const { pool, watcher, projectionWaitMs } = ctx;
  const deadline = Date.now() + projectionWaitMs;
  watcher.poke();
  const wanted = { source: source.code, conversationId, messageId };
  const told = position ? await watcher.waitApplied(position, projectionWaitMs, wanted) : undefined;
  if (told?.applied) {
    const row = told.row ?? (await findMessage(pool, source.code, conversationId, messageId));
    if (row && ready(row)) {
      watcher.seen(BigInt(row.cursor));
      return row;
    }
  }
  for (;;) {
    // What the watcher last saw is below or at the head as the row is looked up, so waiting beyond
    // it cannot miss the row's arrival; asking for the head each time would cost a query.
    const head = watcher.known();
    const row = await findMessage(pool, source.code, conversationId, messageId);
    if (row && ready(row)) {
      watcher.seen(BigInt(row.cursor));
      return row;
    }
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    // New rows move the head; edits and deletions do not, so those are re-read on a short timer.
    if (row) await new Promise((r) => setTimeout(r, Math.min(10, left)));
    else await watcher.waitBeyond(head, left);
  }
};
