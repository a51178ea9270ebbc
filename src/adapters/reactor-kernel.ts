// The one reactor kernel: a batch's events grouped by conversation, the conversations carried a few
// at a time (each in its own order), each read once through the conversation reader at the batch's
// revision, and a Turn per event that records outcomes and loads what a step looks at. The
// Telegram, VK and webhook reactors are steps on top of it (docs/design.md, "Reactors").
import type { CommandHandler } from '../domain/command-handler.ts';
import type { ConversationCommand } from '../domain/conversation-commands.ts';
import type { ConversationState } from '../domain/conversation-core.ts';
import { messageIdOfEvent } from '../domain/conversation-fold.ts';
import type { ConversationReader } from '../domain/conversation-reader.ts';
import type { RecordedEvent } from '../domain/event-log.ts';
import type { ConversationEvent } from '../domain/events.ts';
import { forEachConcurrently } from './conversation-workers.ts';
import { recordOutcome } from './reactor-outcomes.ts';
import { settleAfter } from './settle.ts';

/** One event being reacted to, with the conversation as it stands now. */
export interface Turn {
  readonly conversationId: string;
  readonly recorded: RecordedEvent;
  readonly event: ConversationEvent;
  readonly signal: AbortSignal;
  /** Read for the batch, then replaced by every recorded outcome and load: never stale. */
  readonly state: ConversationState;
  /** Records an outcome; its command id is derived from the event and `step`. */
  record(command: ConversationCommand, step: string): Promise<void>;
  /**
   * Loads messages (undefined entries skipped) and references into the state before a step looks at
   * them; `fresh` reads the stream's tail first (what inbound appended meanwhile).
   */
  need(
    messageIds: ReadonlyArray<string | undefined>,
    options?: { readonly refs?: readonly string[]; readonly fresh?: boolean },
  ): Promise<ConversationState>;
  /** Waits until `ms` after the event was recorded (a burst settling), then reads the tail. */
  settle(ms: number): Promise<void>;
}

export const conversationOfStream = (stream: string): string | undefined =>
  stream.startsWith('conversation-') ? stream.slice('conversation-'.length) : undefined;

/** A batch's events by conversation, in log order within each; `relevant` events only. */
export const byConversation = (
  events: readonly RecordedEvent[],
  relevant: (event: RecordedEvent) => boolean = () => true,
): Map<string, RecordedEvent[]> => {
  const out = new Map<string, RecordedEvent[]>();
  for (const e of events) {
    if (!relevant(e)) continue;
    const id = conversationOfStream(e.stream);
    if (!id) continue;
    const list = out.get(id);
    if (list) list.push(e);
    else out.set(id, [e]);
  }
  return out;
};

/** The messages a batch's events are about. */
export const messagesOf = (events: readonly RecordedEvent[]): string[] => [
  ...new Set(
    events
      .map((e) => messageIdOfEvent({ type: e.type, data: e.data } as ConversationEvent))
      .filter((m): m is string => m !== undefined),
  ),
];

export interface TurnsOptions {
  /** The reactor's name: outcomes are recorded as `system:<name>-reactor`. */
  readonly name: string;
  readonly handler: CommandHandler;
  readonly reader: ConversationReader;
  /** Conversations carried at once within a batch; each conversation stays in order. */
  readonly concurrency: number;
  /** Events the reactor acts on: a conversation with none is not read at all. */
  readonly relevant?: (event: RecordedEvent) => boolean;
  /** Whether the reactor serves this conversation at all (asked once per batch). */
  readonly serves?: (state: ConversationState) => boolean;
  /** What the reactor does for one event. */
  readonly step: (turn: Turn) => Promise<void>;
}

/** A reactor's `handle`: every relevant event of the batch through `step`, conversation by conversation. */
export const reactWithTurns =
  (options: TurnsOptions) =>
  async (events: readonly RecordedEvent[], signal: AbortSignal): Promise<void> => {
    const { name, handler, reader, concurrency, relevant, serves, step } = options;
    await forEachConcurrently(
      [...byConversation(events, relevant)],
      concurrency,
      signal,
      async ([id, own]) => {
        const atLeast = Math.max(...own.map((e) => e.revision));
        let state = (await reader.read(id, { atLeast, messageIds: messagesOf(own) })).state;
        if (serves && !serves(state)) return;
        for (const recorded of own) {
          if (signal.aborted) return;
          const turn: Turn = {
            conversationId: id,
            recorded,
            event: { type: recorded.type, data: recorded.data } as ConversationEvent,
            signal,
            get state() {
              return state;
            },
            async record(command, stepKey) {
              state = await recordOutcome(handler, name, id, recorded, command, stepKey);
            },
            async need(messageIds, o = {}) {
              const ids = messageIds.filter((m): m is string => m !== undefined);
              const known = ids.every((m) => state.messages.knows(m));
              const refsKnown = (o.refs ?? []).every((r) => state.messages.knowsRef(r));
              if (known && refsKnown && !o.fresh) return state;
              state = (
                await reader.read(id, {
                  messageIds: ids,
                  ...(o.refs ? { refs: o.refs } : {}),
                  ...(o.fresh ? { fresh: true } : {}),
                })
              ).state;
              return state;
            },
            async settle(ms) {
              if (await settleAfter(recorded.recordedAt, ms, signal)) await turn.need([], { fresh: true });
            },
          };
          // The message this event is about, loaded again if an earlier turn's reads let it go.
          await turn.need([messageIdOfEvent(turn.event)]);
          await step(turn);
        }
      },
    );
  };
