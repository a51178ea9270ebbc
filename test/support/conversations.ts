// Drives real conversations through the real command handler: the events projections see in
// production, in the order adapters produce them.
import { randomUUID } from 'node:crypto';
import { commandEventId, conversationIdOf } from '../../src/adapters/ids.ts';
import { type CommandHandler, createCommandHandler } from '../../src/domain/command-handler.ts';
import type { ConversationCommand } from '../../src/domain/conversation-commands.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import type { Actor } from '../../src/domain/events.ts';

export const handlerFor = (log: EventLog): CommandHandler =>
  createCommandHandler({ log, eventId: commandEventId });

const text = (t: string) => ({ text: t, attachments: [] });

export interface Driver {
  readonly conversationId: string;
  run(command: ConversationCommand, actor?: Actor): Promise<void>;
}

export const driver = (
  handler: CommandHandler,
  source: string,
  clientId: string,
  channel: 'telegram' | 'external' = 'external',
): Driver => {
  const conversationId = conversationIdOf(channel, source, clientId);
  return {
    conversationId,
    async run(command, actor = { kind: 'client', id: clientId }) {
      await handler.execute(conversationId, command, { commandId: randomUUID(), actor });
    },
  };
};

/** A conversation with every kind of message event: received, forwarded, replied, delivered, edited, deleted. */
export const scriptedConversation = async (
  handler: CommandHandler,
  source: string,
  clientId: string,
  options: { messages?: number } = {},
): Promise<string> => {
  const d = driver(handler, source, clientId);
  const manager: Actor = { kind: 'manager', id: '777', name: 'Alice' };
  const system: Actor = { kind: 'system', id: 'test' };
  const rounds = options.messages ?? 2;
  for (let i = 0; i < rounds; i++) {
    const m = `${clientId}-in-${i}`;
    await d.run({
      type: 'ReceiveClientMessage',
      conversationId: d.conversationId,
      channel: 'external',
      source,
      clientId,
      profile: { firstName: `Client ${clientId}` },
      messageId: m,
      content: text(`hello ${i} from ${clientId}`),
    });
    if (i === 0)
      await d.run(
        { type: 'RecordTopicOpened', topicId: `${clientId}`, chatId: '-100123', title: `Client ${clientId}` },
        system,
      );
    await d.run(
      {
        type: 'RecordForwarded',
        messageId: m,
        topicId: clientId,
        groupMessage: { chatId: '-100123', messageId: `${i + 10}` },
      },
      system,
    );
    const r = `${clientId}-out-${i}`;
    await d.run(
      {
        type: 'ReplyAsManager',
        messageId: r,
        managerId: '777',
        managerName: 'Alice',
        content: text(`answer ${i}`),
      },
      manager,
    );
    await d.run(
      {
        type: 'RecordDelivered',
        messageId: r,
        operation: 'send',
        channelMessage: { chatId: clientId, messageId: `${i + 100}` },
      },
      system,
    );
    if (i % 2 === 0)
      await d.run({ type: 'EditClientMessage', messageId: m, content: text(`hello ${i} (edited)`) });
    if (i % 3 === 2) await d.run({ type: 'DeleteManagerReply', messageId: r }, manager);
  }
  return d.conversationId;
};
