// Runs a command against a conversation stream: read, fold, decide, append with optimistic
// concurrency. Deterministic event ids make a re-delivered command append nothing, whichever
// adapter delivered it.
import type { ConversationCommand } from './conversation-commands.ts';
import type { ConversationState } from './conversation-core.ts';
import { decide, messagesNeeded } from './conversation-decide.ts';
import { type ConversationReader, createConversationReader } from './conversation-reader.ts';
import { CommandGaveUpError, DomainError, WrongExpectedRevisionError } from './errors.ts';
import type { EventLog, LogPosition, NewEvent, RecordedEvent } from './event-log.ts';
import { type Actor, type ConversationEvent, conversationStream, type EventMetadata } from './events.ts';

export { foldConversation } from './conversation-fold.ts';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface CommandMeta {
  /** Deterministic where an upstream id exists (update_id, event_id, Idempotency-Key). */
  readonly commandId: string;
  readonly actor: Actor;
  /** Defaults to commandId. */
  readonly correlationId?: string;
  /** Defaults to commandId. */
  readonly causationId?: string;
  /** Defaults to the clock's now. */
  readonly occurredAt?: string;
  /** Recorded in the events' metadata: the actor pressed a button rather than typed the command. */
  readonly via?: 'button';
  /**
   * The command's message id was made for this call (a random UUID, the API without an
   * Idempotency-Key): no event names it yet, so the store is not asked for it.
   */
  readonly newMessageId?: boolean;
}

/** A decided event with the id and metadata it was appended with. */
export type StampedConversationEvent = ConversationEvent & {
  readonly id: string;
  readonly metadata: EventMetadata;
};

export interface CommandResult {
  /** What this call appended; empty when nothing changed or the command had already run. */
  readonly events: readonly StampedConversationEvent[];
  /** The conversation after the command. */
  readonly state: ConversationState;
  /** Revision of the stream's last event; -1 when the stream does not exist. */
  readonly revision: number;
  /** The command's events were already in the stream (a re-delivery): decide() was not asked again. */
  readonly alreadyHandled: boolean;
  /** Where the last appended event landed in the log; absent when nothing was appended. */
  readonly position?: LogPosition;
}

export interface CommandHandlerOptions {
  readonly log: EventLog;
  /** The id of a command's `index`-th event in `stream`: deterministic, and different for every stream. */
  readonly eventId: (stream: string, commandId: string, index: number) => string;
  /**
   * Retries after a concurrent append; the first attempt is not counted. Default 10. Every turn of
   * the loop counts against twice this, so no command can loop for ever (CommandGaveUpError).
   */
  readonly maxRetries?: number;
  /**
   * Turns a recorded event into a domain event. The composition root passes the zod codec; the
   * default trusts the log (every event in a conversation stream was written by this handler).
   */
  readonly decode?: (event: RecordedEvent) => ConversationEvent;
  readonly clock?: Clock;
  /** Conversations whose state is kept between calls (least recently used dropped). Default CACHED_CONVERSATIONS; 0 turns it off. */
  readonly cacheSize?: number;
  /** The conversation reader to share (the app's, with the store); by default one of its own over `log`. */
  readonly reader?: ConversationReader;
}

export interface CommandHandler {
  execute(
    conversationId: string,
    command: ConversationCommand,
    meta: CommandMeta,
    clock?: Clock,
  ): Promise<CommandResult>;
  /** The reader this handler reads conversations through (for callers that only read). */
  readonly reader: ConversationReader;
}

const isWrongExpectedRevision = (error: unknown): boolean =>
  error instanceof WrongExpectedRevisionError ||
  (typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'wrong_expected_revision');

/**
 * Runs the calls for one key one after another, calls for other keys side by side. Commands on one
 * conversation in this process queue here instead of racing to the log: a burst of ten updates costs
 * ten appends, not the conflicts and re-reads of ten writers meeting on one revision.
 */
export const oneAtATimePerKey = () => {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const before = tails.get(key) ?? Promise.resolve();
    const mine = before.then(work, work);
    const tail = mine.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return mine;
  };
};

export const createCommandHandler = (options: CommandHandlerOptions): CommandHandler => {
  const { log, eventId, maxRetries = 10, clock: defaultClock = systemClock } = options;
  const reader =
    options.reader ??
    createConversationReader({
      log,
      ...(options.decode ? { decode: options.decode } : {}),
      ...(options.cacheSize !== undefined ? { cacheSize: options.cacheSize } : {}),
    });

  const queued = oneAtATimePerKey();

  const executeNow = async (
    conversationId: string,
    command: ConversationCommand,
    meta: CommandMeta,
    clock: Clock,
  ): Promise<CommandResult> => {
    if (command.type === 'ReceiveClientMessage' && command.conversationId !== conversationId) {
      throw new DomainError(
        'invalid_command',
        `command for conversation ${command.conversationId} sent to ${conversationId}`,
      );
    }
    const stream = conversationStream(conversationId);
    const metadata: EventMetadata = {
      occurredAt: meta.occurredAt ?? clock.now().toISOString(),
      correlationId: meta.correlationId ?? meta.commandId,
      causationId: meta.causationId ?? meta.commandId,
      actor: meta.actor,
      ...(meta.via ? { via: meta.via } : {}),
    };
    const idOf = (index: number): string => eventId(stream, meta.commandId, index);
    const made = meta.newMessageId && 'messageId' in command ? [command.messageId] : [];
    const needs = {
      messageIds: messagesNeeded(command).filter((m) => !made.includes(m)),
      newMessageIds: made,
    };

    // Start from what this process holds of the stream. A command that appends is decided on that at
    // once: the append's expected revision refuses it if the stream moved on meanwhile (another
    // instance), and the next attempt reads only what came after. Every other outcome — a command
    // that would append nothing, is refused, or ran before — reads the stream's tail first: a stale
    // view must not drop an edit as unchanged, refuse a message another instance has recorded, or
    // hand a caller a state without what others appended.
    // A client's message to a conversation this process never saw is decided as the conversation's
    // first: no read, and the append's 'no_stream' refuses it if the conversation exists after all.
    let read = await reader.read(conversationId, {
      ...needs,
      mayStart: command.type === 'ReceiveClientMessage',
    });
    // Each turn counts: a stream that keeps moving, or a log that keeps contradicting the read, must
    // end in an error naming the conversation, not a loop.
    const maxTurns = 2 * (maxRetries + 1);
    let reason = '';
    for (let conflicts = 0, turns = 1; ; turns++) {
      if (turns > maxTurns) throw new CommandGaveUpError(conversationId, turns - 1, reason);
      if (turns > 1) read = await reader.read(conversationId, { ...needs, fresh: true });
      const stale = read.held;

      // Asking decide() again would refuse what it accepted the first time (a second BanClient).
      // The state handed back must be the stream's as it is now: callers go on from it.
      if (read.recent.includes(idOf(0))) {
        if (stale) continue;
        return { events: [], state: read.state, revision: read.revision, alreadyHandled: true };
      }

      let decided: readonly ConversationEvent[];
      try {
        decided = decide(command, read.state);
      } catch (error) {
        if (stale && error instanceof DomainError) continue;
        throw error;
      }
      const stamped: StampedConversationEvent[] = decided.map((event, index) => ({
        ...event,
        id: idOf(index),
        metadata,
      }));
      if (stamped.length === 0) {
        if (stale) continue;
        return { events: [], state: read.state, revision: read.revision, alreadyHandled: false };
      }

      const toAppend: NewEvent[] = stamped.map(({ id, type, data, metadata: m }) => ({
        id,
        type,
        data,
        metadata: m,
      }));
      try {
        const result = await log.append(stream, toAppend, read.revision < 0 ? 'no_stream' : read.revision);
        if (result.alreadyStored) {
          // These very events are in this stream already: the command ran before (a re-delivery older
          // than the ids a read keeps). Nothing was written; the caller gets the stream as it is.
          const now = await reader.read(conversationId, { ...needs, fresh: true });
          return { events: [], state: now.state, revision: now.revision, alreadyHandled: true };
        }
        const first = result.nextRevision - stamped.length + 1;
        const after = reader.appended(
          conversationId,
          read,
          stamped.map((event, i) => ({
            event: { type: event.type, data: event.data } as ConversationEvent,
            id: event.id,
            revision: first + i,
            at: event.metadata.occurredAt,
          })),
        );
        return {
          events: stamped,
          state: after.state,
          revision: result.nextRevision,
          alreadyHandled: false,
          position: result.position,
        };
      } catch (error) {
        if (!isWrongExpectedRevision(error)) throw error;
        reason = 'the stream kept moving on';
        // Moved on by someone else: not counted against the retries when we had not read it yet.
        if (!stale && ++conflicts > maxRetries)
          throw new CommandGaveUpError(conversationId, turns, reason, { cause: error });
        // Writers racing on one conversation (a burst of updates, a reactor recording outcomes) would
        // meet again at once: a short random pause, growing with the conflicts, lets one through.
        if (!stale) await new Promise((r) => setTimeout(r, Math.random() * Math.min(40, 2 ** conflicts)));
      }
    }
  };

  const execute = (
    conversationId: string,
    command: ConversationCommand,
    meta: CommandMeta,
    clock: Clock = defaultClock,
  ): Promise<CommandResult> => queued(conversationId, () => executeNow(conversationId, command, meta, clock));

  return { execute, reader };
};
