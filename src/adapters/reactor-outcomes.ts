// What every reactor does after a side effect: record its outcome against the conversation with a
// command id derived from the triggering event and the step, so a batch replayed after a crash
// records each outcome once.
import type { CommandHandler } from '../domain/command-handler.ts';
import type { ConversationCommand } from '../domain/conversation-commands.ts';
import type { ConversationState } from '../domain/conversation-core.ts';
import type { RecordedEvent } from '../domain/event-log.ts';
import type { Channel, DeliveryOperation } from '../domain/events.ts';
import { commandIdOf } from './ids.ts';

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
      commandId: commandIdOf('reactor', reactor, cause.id, step),
      actor: { kind: 'system', id: `${reactor}-reactor` },
      causationId: cause.id,
      correlationId: cause.metadata.correlationId,
    })
  ).state;

/** One delivery outcome of an answer carried to a client (metrics). */
export interface DeliveryReport {
  readonly channel: Channel;
  readonly operation: DeliveryOperation;
  /** delivered: ReplyDelivered; retry: a DeliveryFailed to be tried again; failed: given up. */
  readonly outcome: 'delivered' | 'retry' | 'failed';
}

/**
 * The handler a reactor records outcomes with, telling `report` of each delivery outcome it records.
 * Taken from the events the command appended, so an outcome replayed after a crash (appended
 * nothing) is not reported twice; the channel is the conversation's.
 */
export const reportingDeliveries = (
  handler: CommandHandler,
  report: (delivery: DeliveryReport) => void,
): CommandHandler => ({
  reader: handler.reader,
  async execute(conversationId, command, meta, clock) {
    const result = await handler.execute(conversationId, command, meta, clock);
    const channel = result.state.channel;
    if (!channel) return result;
    for (const event of result.events) {
      if (event.type === 'ReplyDelivered') {
        report({ channel, operation: event.data.operation, outcome: 'delivered' });
      } else if (event.type === 'DeliveryFailed') {
        const outcome = event.data.permanent ? 'failed' : 'retry';
        report({ channel, operation: event.data.operation, outcome });
      }
    }
    return result;
  },
});
