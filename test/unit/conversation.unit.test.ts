import { describe, test } from 'node:test';
import type { ConversationCommand } from '../../src/domain/conversation.ts';
import type { Attachment, ConversationEvent } from '../../src/domain/events.ts';
import {
  clientRef,
  forwardedAs,
  given,
  groupRef,
  receive,
  received,
  replied,
  reply,
  started,
  text,
  topicOpened,
} from './conversation-fixtures.ts';

const banned: ConversationEvent = { type: 'ClientBanned', data: {} };
const closed: ConversationEvent = { type: 'ConversationClosed', data: {} };
const photo = (fileRef: string, fileUniqueId?: string): Attachment => ({
  kind: 'photo',
  fileRef,
  ...(fileUniqueId ? { fileUniqueId } : {}),
});

describe('ReceiveClientMessage', () => {
  test('the first message starts the conversation', () => {
    given([])
      .when(receive('m1', 'hello', { channelMessage: clientRef('10') }))
      .then([started, received('m1', 'hello', { channelMessage: clientRef('10') })]);
  });

  test('a later message is only received', () => {
    given([started, received('m1')])
      .when(receive('m2'))
      .then([received('m2')]);
  });

  test('a message id already received appends nothing (re-delivered update)', () => {
    given([started, received('m1')])
      .when(receive('m1', 'the same update again'))
      .then([]);
  });

  test('a message id used by a manager reply is refused', () => {
    given([started, replied('r1')])
      .when(receive('r1'))
      .then('message_exists');
  });

  test('formatting, album id and attachments are carried', () => {
    const content = {
      text: 'look',
      entities: [{ type: 'bold', offset: 0, length: 4 }],
      attachments: [photo('AgAD1', 'u1')],
    };
    given([started])
      .when(receive('m1', 'look', { content, mediaGroupId: 'album-1' }))
      .then([
        {
          type: 'ClientMessageReceived',
          data: { ...content, messageId: 'm1', mediaGroupId: 'album-1', suppressed: false },
        },
      ]);
  });

  test('a reply to a message of this conversation keeps its threading', () => {
    given([started, received('m1'), replied('r1')])
      .when(receive('m2', 'thanks', { replyTo: 'r1' }))
      .then([received('m2', 'thanks', { replyTo: 'r1' })]);
  });

  test('a reply to something outside this conversation is kept as a plain message', () => {
    given([started, received('m1')])
      .when(receive('m2', 'thanks', { replyTo: 'elsewhere' }))
      .then([received('m2', 'thanks')]);
  });

  test("a banned client's message is recorded suppressed, without a notice event", () => {
    given([started, banned])
      .when(receive('m1'))
      .then([received('m1', undefined, { suppressed: true })]);
  });

  test('a client writing to a closed conversation reopens it', () => {
    given([started, received('m1'), closed])
      .when(receive('m2'))
      .then([{ type: 'ConversationReopened', data: {} }, received('m2')]);
  });

  test('a banned client writing to a closed conversation does not reopen it', () => {
    given([started, banned, closed])
      .when(receive('m1'))
      .then([received('m1', undefined, { suppressed: true })]);
  });

  test('a message for another client is refused', () => {
    given([started])
      .when(receive('m1', 'hi', { clientId: 'someone-else' }))
      .then('invalid_command');
  });
});

describe('every other command needs a started conversation', () => {
  const commands: readonly ConversationCommand[] = [
    { type: 'EditClientMessage', messageId: 'm1', content: text('x') },
    { type: 'DeleteClientMessage', messageId: 'm1' },
    { type: 'RecordTopicOpened', topicId: '1', chatId: '-100', title: 't' },
    { type: 'RecordTopicLost', topicId: '1', reason: 'gone' },
    { type: 'RecordForwarded', messageId: 'm1', topicId: '1', groupMessage: groupRef('1') },
    reply('r1'),
    { type: 'EditManagerReply', messageId: 'r1', content: text('x') },
    { type: 'DeleteManagerReply', messageId: 'r1' },
    { type: 'RecordDelivered', messageId: 'r1', operation: 'send' },
    {
      type: 'RecordDeliveryFailed',
      messageId: 'r1',
      operation: 'send',
      reason: 'x',
      permanent: false,
      attempt: 1,
    },
    { type: 'BanClient' },
    { type: 'UnbanClient' },
    { type: 'CloseConversation' },
    { type: 'ReopenConversation' },
    { type: 'RecordClientNotified', notice: 'banned' },
  ];
  for (const command of commands) {
    test(command.type, () => {
      given([]).when(command).then('conversation_not_started');
    });
  }
});

describe('EditClientMessage', () => {
  const edit = (messageId: string, content = text('edited')): ConversationCommand => ({
    type: 'EditClientMessage',
    messageId,
    content,
  });

  test('a changed text is an edit carrying the previous text', () => {
    given([started, received('m1', 'helo')])
      .when(edit('m1', text('hello')))
      .then([
        {
          type: 'ClientMessageEdited',
          data: { text: 'hello', attachments: [], messageId: 'm1', previousText: 'helo' },
        },
      ]);
  });

  test('previousText is the text after the last edit', () => {
    const firstEdit: ConversationEvent = {
      type: 'ClientMessageEdited',
      data: { text: 'second', attachments: [], messageId: 'm1', previousText: 'first' },
    };
    given([started, received('m1', 'first'), firstEdit])
      .when(edit('m1', text('third')))
      .then([
        {
          type: 'ClientMessageEdited',
          data: { text: 'third', attachments: [], messageId: 'm1', previousText: 'second' },
        },
      ]);
  });

  test('unchanged content is not an edit', () => {
    given([started, received('m1', 'same')])
      .when(edit('m1', text('same')))
      .then([]);
  });

  test('the same file under a new file_id is unchanged content', () => {
    given([started, received('m1', 'pic', { attachments: [photo('AgAD-old', 'uniq-1')] })])
      .when(edit('m1', { text: 'pic', attachments: [photo('AgAD-new', 'uniq-1')] }))
      .then([]);
  });

  test('new formatting alone is an edit', () => {
    const entities = [{ type: 'italic', offset: 0, length: 3 }];
    given([started, received('m1', 'pic')])
      .when(edit('m1', { text: 'pic', entities, attachments: [] }))
      .then([
        {
          type: 'ClientMessageEdited',
          data: { text: 'pic', entities, attachments: [], messageId: 'm1', previousText: 'pic' },
        },
      ]);
  });

  test('a replaced photo under the same caption is an edit', () => {
    const attachments = [photo('AgAD-2', 'uniq-2')];
    given([started, received('m1', 'pic', { attachments: [photo('AgAD-1', 'uniq-1')] })])
      .when(edit('m1', { text: 'pic', attachments }))
      .then([
        {
          type: 'ClientMessageEdited',
          data: { text: 'pic', attachments, messageId: 'm1', previousText: 'pic' },
        },
      ]);
  });

  test('an unknown message is refused', () => {
    given([started]).when(edit('m9')).then('message_not_found');
  });

  test('a deleted message is refused', () => {
    given([started, received('m1'), { type: 'ClientMessageDeleted', data: { messageId: 'm1' } }])
      .when(edit('m1'))
      .then('message_deleted');
  });

  test("a manager's reply cannot be edited as a client message", () => {
    given([started, replied('r1')])
      .when(edit('r1'))
      .then('not_a_client_message');
  });
});

describe('DeleteClientMessage', () => {
  const del = (messageId: string): ConversationCommand => ({ type: 'DeleteClientMessage', messageId });

  test('deletes', () => {
    given([started, received('m1')])
      .when(del('m1'))
      .then([{ type: 'ClientMessageDeleted', data: { messageId: 'm1' } }]);
  });

  test('a deleted message is refused', () => {
    given([started, received('m1'), { type: 'ClientMessageDeleted', data: { messageId: 'm1' } }])
      .when(del('m1'))
      .then('message_deleted');
  });

  test('an unknown message is refused', () => {
    given([started]).when(del('m1')).then('message_not_found');
  });

  test("a manager's reply is refused", () => {
    given([started, replied('r1')])
      .when(del('r1'))
      .then('not_a_client_message');
  });
});

describe('topics', () => {
  const open = (topicId: string): ConversationCommand => ({
    type: 'RecordTopicOpened',
    topicId,
    chatId: '-1001234567890',
    title: 'Ada (@ada)',
  });
  const lost = (topicId: string): ConversationCommand => ({
    type: 'RecordTopicLost',
    topicId,
    reason: 'gone',
  });
  const topicLost = (topicId: string): ConversationEvent => ({
    type: 'TopicLost',
    data: { topicId, reason: 'gone' },
  });

  test('opens the first topic', () => {
    given([started])
      .when(open('77'))
      .then([topicOpened('77')]);
  });

  test('a second topic is refused while the first stands', () => {
    given([started, topicOpened('77')])
      .when(open('78'))
      .then('topic_exists');
  });

  test('the same topic reported again appends nothing', () => {
    given([started, topicOpened('77')])
      .when(open('77'))
      .then([]);
  });

  test('a new topic may be opened once the old one is lost', () => {
    given([started, topicOpened('77'), topicLost('77')])
      .when(open('78'))
      .then([topicOpened('78')]);
  });

  test('losing the current topic is recorded', () => {
    given([started, topicOpened('77')])
      .when(lost('77'))
      .then([topicLost('77')]);
  });

  test('a stale report about a replaced topic appends nothing', () => {
    given([started, topicOpened('77'), topicLost('77'), topicOpened('78')])
      .when(lost('77'))
      .then([]);
  });

  test('a report with no topic at all appends nothing', () => {
    given([started]).when(lost('77')).then([]);
  });
});

describe('RecordForwarded', () => {
  const forward = (messageId: string, topicId = '77', groupMessageId = '500'): ConversationCommand => ({
    type: 'RecordForwarded',
    messageId,
    topicId,
    groupMessage: groupRef(groupMessageId),
  });
  const forwarded = (messageId: string, topicId = '77', groupMessageId = '500'): ConversationEvent => ({
    type: 'ClientMessageForwarded',
    data: { messageId, topicId, groupMessage: groupRef(groupMessageId) },
  });

  test('records the topic copy', () => {
    given([started, received('m1'), topicOpened('77')])
      .when(forward('m1'))
      .then([forwarded('m1')]);
  });

  test('twice into the same topic appends nothing', () => {
    given([started, received('m1'), topicOpened('77'), forwarded('m1')])
      .when(forward('m1', '77', '501'))
      .then([]);
  });

  test('into a replacement topic is recorded', () => {
    const history: ConversationEvent[] = [
      started,
      received('m1'),
      topicOpened('77'),
      forwarded('m1'),
      { type: 'TopicLost', data: { topicId: '77', reason: 'deleted' } },
      topicOpened('78'),
    ];
    given(history)
      .when(forward('m1', '78', '900'))
      .then([forwarded('m1', '78', '900')]);
  });

  test('an unknown message is refused', () => {
    given([started, topicOpened('77')])
      .when(forward('m1'))
      .then('message_not_found');
  });

  test('a message that took several topic messages records the further ones, in order', () => {
    given([started, received('m1'), topicOpened('77')])
      .when({
        type: 'RecordForwarded',
        messageId: 'm1',
        topicId: '77',
        groupMessage: groupRef('500'),
        moreGroupMessages: [groupRef('501'), groupRef('502')],
      })
      .then([forwardedAs('m1', '77', ['500', '501', '502'])]);
  });

  test('no further topic messages: the event is the one-message event as before', () => {
    given([started, received('m1'), topicOpened('77')])
      .when({ ...forward('m1'), moreGroupMessages: [] } as ConversationCommand)
      .then([forwarded('m1')]);
  });

  test('a retry of a several-message forwarding into the same topic appends nothing', () => {
    given([started, received('m1'), topicOpened('77'), forwardedAs('m1', '77', ['500', '501'])])
      .when({ ...forward('m1'), moreGroupMessages: [groupRef('601')] } as ConversationCommand)
      .then([]);
  });

  test("a manager's reply is not forwarded", () => {
    given([started, replied('r1')])
      .when(forward('r1'))
      .then('not_a_client_message');
  });
});

describe('ReplyAsManager', () => {
  test('records the answer with its group message', () => {
    given([started, received('m1'), topicOpened('77')])
      .when(reply('r1', 'hi Ada', { groupMessage: groupRef('600'), replyTo: 'm1' }))
      .then([replied('r1', 'hi Ada', { groupMessage: groupRef('600'), replyTo: 'm1' })]);
  });

  test('the same reply again appends nothing', () => {
    given([started, replied('r1')])
      .when(reply('r1'))
      .then([]);
  });

  test('a message id used by a client message is refused', () => {
    given([started, received('m1')])
      .when(reply('m1'))
      .then('message_exists');
  });

  test('a reply to an unknown message is kept as a plain answer', () => {
    given([started])
      .when(reply('r1', 'hi', { replyTo: 'nowhere' }))
      .then([replied('r1', 'hi')]);
  });

  test('answering in a closed conversation does not reopen it', () => {
    given([started, closed])
      .when(reply('r1'))
      .then([replied('r1')]);
  });
});

describe('EditManagerReply and DeleteManagerReply', () => {
  const edit = (messageId: string, body: string): ConversationCommand => ({
    type: 'EditManagerReply',
    messageId,
    content: text(body),
  });
  const del = (messageId: string): ConversationCommand => ({ type: 'DeleteManagerReply', messageId });
  const deleted: ConversationEvent = { type: 'ManagerReplyDeleted', data: { messageId: 'r1' } };

  test('an edit carries the previous text', () => {
    given([started, replied('r1', 'helo')])
      .when(edit('r1', 'hello'))
      .then([
        {
          type: 'ManagerReplyEdited',
          data: { text: 'hello', attachments: [], messageId: 'r1', previousText: 'helo' },
        },
      ]);
  });

  test('unchanged content is not an edit', () => {
    given([started, replied('r1', 'same')])
      .when(edit('r1', 'same'))
      .then([]);
  });

  test("a client's message is not a manager reply", () => {
    given([started, received('m1')])
      .when(edit('m1', 'x'))
      .then('not_a_manager_reply');
    given([started, received('m1')])
      .when(del('m1'))
      .then('not_a_manager_reply');
  });

  test('unknown replies are refused', () => {
    given([started]).when(edit('r1', 'x')).then('message_not_found');
    given([started]).when(del('r1')).then('message_not_found');
  });

  test('deletes, once', () => {
    given([started, replied('r1')])
      .when(del('r1'))
      .then([deleted]);
    given([started, replied('r1'), deleted])
      .when(del('r1'))
      .then('message_deleted');
  });

  test('a deleted reply cannot be edited', () => {
    given([started, replied('r1'), deleted])
      .when(edit('r1', 'x'))
      .then('message_deleted');
  });
});

describe('delivery outcomes', () => {
  const delivered = (
    operation: 'send' | 'edit' | 'delete' = 'send',
    channelMessage = clientRef('900'),
  ): ConversationEvent => ({
    type: 'ReplyDelivered',
    data: { messageId: 'r1', operation, channelMessage },
  });
  const recordDelivered = (operation: 'send' | 'edit' | 'delete' = 'send'): ConversationCommand => ({
    type: 'RecordDelivered',
    messageId: 'r1',
    operation,
    channelMessage: clientRef('900'),
  });
  const recordFailed = (attempt: number, operation: 'send' | 'edit' = 'send'): ConversationCommand => ({
    type: 'RecordDeliveryFailed',
    messageId: 'r1',
    operation,
    reason: '429 Too Many Requests',
    permanent: false,
    attempt,
    nextAttemptAt: '2030-01-01T00:00:05.000Z',
  });
  const failed = (attempt: number): ConversationEvent => ({
    type: 'DeliveryFailed',
    data: {
      messageId: 'r1',
      operation: 'send',
      reason: '429 Too Many Requests',
      permanent: false,
      attempt,
      nextAttemptAt: '2030-01-01T00:00:05.000Z',
    },
  });
  const edited: ConversationEvent = {
    type: 'ManagerReplyEdited',
    data: { text: 'v2', attachments: [], messageId: 'r1', previousText: 'v1' },
  };

  test('records a delivery with the client-side message', () => {
    given([started, replied('r1')])
      .when(recordDelivered())
      .then([delivered()]);
  });

  test('a second report of the same delivery appends nothing', () => {
    given([started, replied('r1'), delivered()])
      .when(recordDelivered())
      .then([]);
  });

  test('each edit is delivered on its own', () => {
    given([started, replied('r1', 'v1'), delivered(), edited])
      .when(recordDelivered('edit'))
      .then([delivered('edit')]);
    given([started, replied('r1', 'v1'), delivered(), edited, delivered('edit')])
      .when(recordDelivered('edit'))
      .then([]);
    const secondEdit: ConversationEvent = {
      type: 'ManagerReplyEdited',
      data: { text: 'v3', attachments: [], messageId: 'r1', previousText: 'v2' },
    };
    given([started, replied('r1', 'v1'), delivered(), edited, delivered('edit'), secondEdit])
      .when(recordDelivered('edit'))
      .then([delivered('edit')]);
  });

  test('an outcome for an operation that never happened is refused', () => {
    given([started, replied('r1')])
      .when(recordDelivered('edit'))
      .then('invalid_command');
    given([started, replied('r1')])
      .when(recordDelivered('delete'))
      .then('invalid_command');
  });

  test('unknown messages and client messages are refused', () => {
    given([started]).when(recordDelivered()).then('message_not_found');
    given([started]).when(recordFailed(1)).then('message_not_found');
    given([started, received('r1')])
      .when(recordDelivered())
      .then('not_a_manager_reply');
  });

  test('records failures attempt by attempt', () => {
    given([started, replied('r1')])
      .when(recordFailed(1))
      .then([failed(1)]);
    given([started, replied('r1'), failed(1)])
      .when(recordFailed(2))
      .then([failed(2)]);
  });

  test('a failure already reported appends nothing', () => {
    given([started, replied('r1'), failed(2)])
      .when(recordFailed(2))
      .then([]);
    given([started, replied('r1'), failed(2)])
      .when(recordFailed(1))
      .then([]);
  });

  test('a late failure after the delivery appends nothing', () => {
    given([started, replied('r1'), delivered()])
      .when(recordFailed(1))
      .then([]);
  });

  test('a delivery after failures is recorded', () => {
    given([started, replied('r1'), failed(1)])
      .when(recordDelivered())
      .then([delivered()]);
  });

  test('a nonsensical attempt number is refused', () => {
    given([started, replied('r1')])
      .when(recordFailed(0))
      .then('invalid_command');
  });
});

describe('manager actions', () => {
  const unbanned: ConversationEvent = { type: 'ClientUnbanned', data: {} };
  const reopened: ConversationEvent = { type: 'ConversationReopened', data: {} };

  test('ban and unban', () => {
    given([started])
      .when({ type: 'BanClient', reason: 'spam' })
      .then([{ type: 'ClientBanned', data: { reason: 'spam' } }]);
    given([started]).when({ type: 'BanClient' }).then([banned]);
    given([started, banned]).when({ type: 'BanClient' }).then('already_banned');
    given([started, banned]).when({ type: 'UnbanClient' }).then([unbanned]);
    given([started]).when({ type: 'UnbanClient' }).then('not_banned');
    given([started, banned, unbanned]).when({ type: 'UnbanClient' }).then('not_banned');
  });

  test('close and reopen', () => {
    given([started]).when({ type: 'CloseConversation' }).then([closed]);
    given([started, closed]).when({ type: 'CloseConversation' }).then('already_closed');
    given([started, closed]).when({ type: 'ReopenConversation' }).then([reopened]);
    given([started]).when({ type: 'ReopenConversation' }).then('not_closed');
    given([started, closed, reopened]).when({ type: 'ReopenConversation' }).then('not_closed');
  });

  test('the ban notice is recorded once per ban', () => {
    const notified: ConversationEvent = { type: 'ClientNotified', data: { notice: 'banned' } };
    const notify: ConversationCommand = { type: 'RecordClientNotified', notice: 'banned' };
    given([started, banned]).when(notify).then([notified]);
    given([started, banned, notified]).when(notify).then([]);
    given([started, banned, notified, unbanned, banned]).when(notify).then([notified]);
  });

  test('the close notice is recorded once per close', () => {
    const notified: ConversationEvent = { type: 'ClientNotified', data: { notice: 'closed' } };
    const notify: ConversationCommand = { type: 'RecordClientNotified', notice: 'closed' };
    given([started, closed]).when(notify).then([notified]);
    given([started, closed, notified]).when(notify).then([]);
    given([started, closed, notified, reopened, closed]).when(notify).then([notified]);
  });
});
