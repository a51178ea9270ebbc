// What every reactor does after a side effect: record its outcome against the conversation with a
// command id derived from the triggering event and the step, so a batch replayed after a crash
// records each outcome once.
import type { CommandHandler } from '../domain/command-handler.ts';
import type { ConversationCommand } from '../domain/conversation-commands.ts';
import type { ConversationState } from '../domain/conversation-state.ts';
import type { RecordedEvent } from '../domain/event-log.ts';

export const recordOutcome = async (
  handler: CommandHandler,
  reactor: string,
  conversationId: string,
  cause: RecordedEvent,
  command: ConversationCommand,
  step: string,
): Promise<ConversationState> =>
  (
    await handler.execute(conversationId, command, {
      commandId: `reactor:${reactor}:${cause.id}:${step}`,
      actor: { kind: 'system', id: `${reactor}-reactor` },
      causationId: cause.id,
      correlationId: cause.metadata.correlationId,
    })
  ).state;
