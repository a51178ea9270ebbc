// Runs a command against a conversation stream: read, fold, decide, append with optimistic
// concurrency. Deterministic event ids make a re-delivered command append nothing, whichever
// adapter delivered it.
import type { ConversationCommand } from './conversation-commands.ts';
import { decide } from './conversation-decide.ts';
import { type ConversationState, foldConversation, initialConversationState } from './conversation-state.ts';
import { CommandGaveUpError, DomainError, WrongExpectedRevisionError } from './errors.ts';
import type { EventLog, LogPosition, NewEvent, RecordedEvent } from './event-log.ts';
import { type Actor, type ConversationEvent, conversationStream, type EventMetadata } from './events.ts';

export { foldConversation } from './conversation-state.ts';

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
  /** Conversations whose folded state is kept between calls (least recently used dropped). Default 5000; 0 turns it off. */
  readonly cacheSize?: number;
}

export interface CommandHandler {
  execute(
    conversationId: string,
    command: ConversationCommand,
    meta: CommandMeta,
    clock?: Clock,
  ): Promise<CommandResult>;
}

const trustLog = (event: RecordedEvent): ConversationEvent =>
  ({ type: event.type, data: event.data }) as ConversationEvent;

const isWrongExpectedRevision = (error: unknown): boolean =>
  error instanceof WrongExpectedRevisionError ||
  (typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'wrong_expected_revision');

export const createCommandHandler = (options: CommandHandlerOptions): CommandHandler => {
  const { log, eventId, maxRetries = 10, decode = trustLog, clock: defaultClock = systemClock } = options;
  const cacheSize = options.cacheSize ?? 5000;
  const cache = new Map<string, { state: ConversationState; revision: number; seen: Set<string> }>();
  const remember = (id: string, state: ConversationState, revision: number, seen: Set<string>) => {
    if (cacheSize <= 0) return;
    const current = cache.get(id);
    if (current && current.revision > revision) return; // a concurrent call already knows more
    cache.delete(id); // re-inserted last: the Map's order is least recently used first
    cache.set(id, { state, revision, seen });
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
  };

  const execute = async (
    conversationId: string,
    command: ConversationCommand,
    meta: CommandMeta,
    clock: Clock = defaultClock,
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
    };
    const idOf = (index: number): string => eventId(stream, meta.commandId, index);

    // Start from what this process last saw of the stream. A command that appends is decided on that
    // at once: the append's expected revision refuses it if the stream moved on meanwhile (another
    // instance), and the next attempt reads only what came after. Every other outcome — a command
    // that would append nothing, is refused, or ran before — reads the stream's tail first: a stale
    // view must not drop an edit as unchanged, refuse a message another instance has recorded, or
    // hand a caller a state without what others appended.
    const cached = cache.get(conversationId);
    let state = cached?.state ?? initialConversationState;
    let revision = cached?.revision ?? -1;
    // Only ever holds ids that are in the stream, so sharing it between calls is safe.
    const seen = cached?.seen ?? new Set<string>();
    // Deciding on what this process held, the stream's tail not read: only on the first attempt.
    let stale = cached !== undefined;

    // Every turn of the loop but the first reads the tail (the update clears `stale`). Each turn
    // counts: a log that keeps contradicting the read (an append it calls stored that the stream
    // does not show) must end in an error naming the conversation, not a loop.
    const maxTurns = 2 * (maxRetries + 1);
    let reason = '';
    for (let conflicts = 0, turns = 0; ; stale = false) {
      if (++turns > maxTurns) throw new CommandGaveUpError(conversationId, turns - 1, reason);
      if (!stale) {
        const recorded = await log.readStream(stream, { fromRevision: revision + 1 });
        for (const r of recorded) seen.add(r.id);
        state = foldConversation(recorded.map(decode), state);
        revision = recorded.at(-1)?.revision ?? revision;
        remember(conversationId, state, revision, seen);
      }

      // Asking decide() again would refuse what it accepted the first time (a second BanClient).
      // The state handed back must be the stream's as it is now: callers go on from it.
      if (seen.has(idOf(0))) {
        if (stale) continue;
        return { events: [], state, revision, alreadyHandled: true };
      }

      let decided: readonly ConversationEvent[];
      try {
        decided = decide(command, state);
      } catch (error) {
        if (stale && error instanceof DomainError) continue;
        throw error;
      }
      const stamped: StampedConversationEvent[] = decided
        .map((event, index) => ({ ...event, id: idOf(index), metadata }))
        .filter((event) => !seen.has(event.id));
      if (stamped.length === 0) {
        if (stale) continue;
        return { events: [], state, revision, alreadyHandled: false };
      }

      const toAppend: NewEvent[] = stamped.map(({ id, type, data, metadata: m }) => ({
        id,
        type,
        data,
        metadata: m,
      }));
      try {
        const result = await log.append(stream, toAppend, revision < 0 ? 'no_stream' : revision);
        // The log had these events already (a re-delivered command another writer recorded) and
        // answered where they were stored: what the stream holds now is read, not assumed.
        if (result.alreadyStored) {
          reason = 'the log reports the events stored, the stream does not show them';
          continue;
        }
        const after = foldConversation(stamped, state);
        for (const e of stamped) seen.add(e.id);
        remember(conversationId, after, result.nextRevision, seen);
        return {
          events: stamped,
          state: after,
          revision: result.nextRevision,
          alreadyHandled: false,
          position: result.position,
        };
      } catch (error) {
        if (!isWrongExpectedRevision(error)) throw error;
        reason = 'the stream kept moving on';
        // Moved on by someone else: not counted against the retries when we had not read it yet.
        if (!stale && ++conflicts > maxRetries) throw error;
      }
    }
  };

  return { execute };
};
