// What the benchmarks load into the log before they measure: generated conversations, appended
// through `log.append` many events per call by several appenders, in rounds over the conversations
// (so that each conversation's events are spread through the log the way days of traffic spread
// them). Events are generated as they are appended: memory stays flat whatever the size.
//
// - `realisticConversation` (bench -- projections, scale): every event type of src/domain/events.ts
//   in the order the command handler and reactors write them, over five sources, with metadata.
// - `externalConversation` (bench -- api): one external source's clients, each with a topic, client
//   messages copied into it and manager answers.
import { randomUUID } from 'node:crypto';
import { conversationIdOf } from '../src/adapters/ids.ts';
import type { EventLog, NewEvent } from '../src/domain/event-log.ts';
import {
  type Actor,
  type Attachment,
  type Channel,
  type ConversationEvent,
  conversationStream,
} from '../src/domain/events.ts';

/** A small seeded PRNG (mulberry32): the same shape of data on every run. */
export const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

export interface Script {
  readonly stream: string;
  /** Revision of the last appended event; -1 before the first append. */
  revision: number;
  remaining(): number;
  take(count: number): NewEvent[];
}

export interface LoadOptions {
  readonly eventsPerAppend: number;
  readonly appenders: number;
  /** Called after each round with the events appended so far. */
  readonly onRound?: (round: number, appended: number) => void;
}

/**
 * Appends every conversation's events, `eventsPerAppend` per call, in rounds: each round appends the
 * next chunk of every conversation (a later edit finds its message in an earlier batch).
 */
export const appendScripts = async (
  log: EventLog,
  scripts: readonly Script[],
  options: LoadOptions,
): Promise<number> => {
  let appended = 0;
  for (let round = 1; ; round++) {
    const pending = scripts.filter((s) => s.remaining() > 0);
    if (pending.length === 0) return appended;
    let next = 0;
    await Promise.all(
      Array.from({ length: options.appenders }, async () => {
        while (next < pending.length) {
          const script = pending[next++]!;
          const events = script.take(options.eventsPerAppend);
          const result = await log.append(
            script.stream,
            events,
            script.revision < 0 ? 'no_stream' : script.revision,
          );
          script.revision = result.nextRevision;
          appended += events.length;
        }
      }),
    );
    options.onRound?.(round, appended);
  }
};

/** `events` spread over `conversations` scripts made by `make` (the first ones get the remainder). */
export const scriptsFor = (
  events: number,
  conversations: number,
  make: (index: number, events: number) => Script,
): Script[] =>
  Array.from({ length: conversations }, (_, i) =>
    make(i, Math.floor(events / conversations) + (i < events % conversations ? 1 : 0)),
  );

// ---------------------------------------------------------------------------------------------
// Realistic conversations: the event types and data shapes of src/domain/events.ts, in the order
// the command handler and reactors produce them, with metadata on every event.

const origins: ReadonlyArray<{ channel: Channel; source: string; weight: number }> = [
  { channel: 'telegram', source: 'telegram', weight: 0.5 },
  { channel: 'vk', source: 'vk', weight: 0.15 },
  { channel: 'external', source: 'shop', weight: 0.2 },
  { channel: 'external', source: 'crm', weight: 0.1 },
  { channel: 'external', source: 'forms', weight: 0.05 },
];
const managers: readonly Actor[] = ['Alice', 'Boris', 'Chen', 'Dana', 'Emil', 'Farida'].map((name, i) => ({
  kind: 'manager',
  id: String(5_000_000 + i * 7919),
  name,
}));
const words =
  'hello order delivery payment refund please thanks where is my parcel tracking number invoice account password reset help support card bank transfer status today tomorrow week address change cancel item size colour broken damaged replace return label courier warehouse discount promo code subscription renew price total receipt photo attached sorry late again urgent question answer'.split(
    ' ',
  );
const firstNames = ['Anna', 'Ivan', 'Maria', 'Oleg', 'Sofia', 'Pavel', 'Elena', 'Dmitry', 'Olga', 'Nikita'];
const lastNames = ['Ivanova', 'Petrov', 'Smirnova', 'Kuznetsov', 'Popova', 'Volkov'];
/** Message texts: 3 to 48 words, most of them short. Made once: building text per event would cost more than appending it. */
const sentences = (() => {
  const random = seeded(7);
  return Array.from({ length: 4096 }, () =>
    Array.from(
      { length: 3 + Math.floor(random() * random() * 45) },
      () => words[Math.floor(random() * words.length)]!,
    ).join(' '),
  );
})();
const supportChat = '-1001987654321';
const dayMs = 86_400_000;

export const realisticConversation = (
  index: number,
  total: number,
  random: () => number,
  now: number,
): Script => {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const w = random();
  let sum = 0;
  const origin =
    origins.find((o) => {
      sum += o.weight;
      return w < sum;
    }) ?? origins[0]!;
  const clientId = origin.channel === 'external' ? `cust-${index}` : String(100_000_000 + index * 37);
  const conversationId = conversationIdOf(origin.channel, origin.source, clientId);
  const profile = {
    firstName: pick(firstNames),
    ...(random() < 0.5 ? { lastName: pick(lastNames) } : {}),
    ...(random() < 0.6 ? { username: `user${index}` } : {}),
    languageCode: random() < 0.7 ? 'ru' : 'en',
  };
  const topicId = String(10_000 + index);
  let t = now - 180 * dayMs + random() * 170 * dayMs;
  let channelSeq = 1;
  let groupSeq = 1;
  let started = false;
  const queue: NewEvent[] = [];
  const clientMessages: Array<{ id: string; text: string }> = [];
  const replies: Array<{ id: string; text: string }> = [];

  const at = (minS: number, maxS: number) => {
    t += (minS + random() * (maxS - minS)) * 1000;
    return new Date(t).toISOString();
  };
  const content = (withFiles: boolean) => {
    const text = pick(sentences);
    const attachments: Attachment[] = [];
    if (withFiles && random() < 0.08)
      attachments.push({
        kind: 'photo',
        fileRef: `AgACAgIAAxkBAAI${randomUUID().replaceAll('-', '')}`,
        fileUniqueId: `AQAD${index}x${channelSeq}`,
        mimeType: 'image/jpeg',
        size: 20_000 + Math.floor(random() * 400_000),
      });
    else if (withFiles && random() < 0.03)
      attachments.push({
        kind: 'document',
        fileRef: `BQACAgIAAxkBAAI${randomUUID().replaceAll('-', '')}`,
        fileName: `invoice-${index}-${channelSeq}.pdf`,
        mimeType: 'application/pdf',
        size: 50_000 + Math.floor(random() * 2_000_000),
      });
    const entities =
      random() < 0.05 ? [{ type: 'bold', offset: 0, length: Math.min(5, text.length) }] : undefined;
    return { text, attachments, ...(entities ? { entities } : {}) };
  };
  const recent = <T>(xs: T[], x: T) => {
    xs.push(x);
    if (xs.length > 20) xs.shift();
  };

  /** Appends one event; `cause` is the event (or command) it follows from. */
  const emit = (
    event: ConversationEvent,
    actor: Actor,
    occurredAt: string,
    correlationId: string,
    cause: string,
  ) => {
    const id = randomUUID();
    queue.push({
      id,
      type: event.type,
      data: event.data,
      metadata: { occurredAt, correlationId, causationId: cause, actor },
    });
    return id;
  };
  const client: Actor = { kind: origin.channel === 'external' ? 'source' : 'client', id: clientId };
  const system: Actor = { kind: 'system', id: 'reactor' };

  const clientMessage = (first: boolean) => {
    const command = randomUUID();
    const occurredAt = at(first ? 0 : 30, first ? 0 : 6 * 3600);
    let cause = command;
    if (first) {
      cause = emit(
        {
          type: 'ConversationStarted',
          data: { conversationId, channel: origin.channel, source: origin.source, clientId, profile },
        },
        client,
        occurredAt,
        command,
        command,
      );
    }
    const messageId = randomUUID();
    const c = content(true);
    const replyTo = !first && random() < 0.1 && replies.length > 0 ? pick(replies).id : undefined;
    const received = emit(
      {
        type: 'ClientMessageReceived',
        data: {
          ...c,
          messageId,
          ...(origin.channel === 'external'
            ? {}
            : { channelMessage: { chatId: clientId, messageId: String(channelSeq++) } }),
          ...(replyTo ? { replyTo } : {}),
          suppressed: false,
        },
      },
      client,
      occurredAt,
      command,
      cause,
    );
    recent(clientMessages, { id: messageId, text: c.text });
    let forwardCause = received;
    if (first) {
      const title = `${profile.firstName}${profile.lastName ? ` ${profile.lastName}` : ''} · ${origin.source}`;
      forwardCause = emit(
        { type: 'TopicOpened', data: { topicId, chatId: supportChat, title } },
        system,
        at(0.2, 1),
        command,
        received,
      );
    }
    emit(
      {
        type: 'ClientMessageForwarded',
        data: { messageId, topicId, groupMessage: { chatId: supportChat, messageId: String(groupSeq++) } },
      },
      system,
      at(0.1, 2),
      command,
      forwardCause,
    );
  };

  const managerReply = () => {
    const manager = pick(managers);
    const command = randomUUID();
    const messageId = randomUUID();
    const c = content(true);
    const replied = emit(
      {
        type: 'ManagerReplied',
        data: {
          ...c,
          messageId,
          managerId: manager.id,
          managerName: manager.name!,
          groupMessage: { chatId: supportChat, messageId: String(groupSeq++) },
          ...(random() < 0.3 && clientMessages.length > 0 ? { replyTo: pick(clientMessages).id } : {}),
        },
      },
      manager,
      at(20, 3 * 3600),
      command,
      command,
    );
    recent(replies, { id: messageId, text: c.text });
    let cause = replied;
    if (random() < 0.03) {
      cause = emit(
        {
          type: 'DeliveryFailed',
          data: {
            messageId,
            operation: 'send',
            reason: '429: Too Many Requests: retry after 3',
            permanent: false,
            attempt: 1,
            nextAttemptAt: new Date(t + 3000).toISOString(),
          },
        },
        system,
        at(0.1, 1),
        command,
        replied,
      );
    }
    emit(
      {
        type: 'ReplyDelivered',
        data: {
          messageId,
          operation: 'send',
          ...(origin.channel === 'external'
            ? {}
            : { channelMessage: { chatId: clientId, messageId: String(channelSeq++) } }),
        },
      },
      system,
      at(0.1, 4),
      command,
      cause,
    );
  };

  const step = () => {
    if (!started) {
      started = true;
      clientMessage(true);
      return;
    }
    const r = random();
    if (r < 0.42) clientMessage(false);
    else if (r < 0.82) managerReply();
    else if (r < 0.9 && clientMessages.length > 0) {
      const m = pick(clientMessages);
      const c = content(false);
      const command = randomUUID();
      emit(
        { type: 'ClientMessageEdited', data: { ...c, messageId: m.id, previousText: m.text } },
        client,
        at(10, 600),
        command,
        command,
      );
      m.text = c.text;
    } else if (r < 0.95 && replies.length > 0) {
      const m = pick(replies);
      const c = content(false);
      const command = randomUUID();
      const manager = pick(managers);
      const edited = emit(
        { type: 'ManagerReplyEdited', data: { ...c, messageId: m.id, previousText: m.text } },
        manager,
        at(10, 600),
        command,
        command,
      );
      m.text = c.text;
      emit(
        { type: 'ReplyDelivered', data: { messageId: m.id, operation: 'edit' } },
        system,
        at(0.1, 2),
        command,
        edited,
      );
    } else if (replies.length > 0) {
      const m = pick(replies);
      const command = randomUUID();
      const deleted = emit(
        { type: 'ManagerReplyDeleted', data: { messageId: m.id } },
        pick(managers),
        at(10, 600),
        command,
        command,
      );
      emit(
        { type: 'ReplyDelivered', data: { messageId: m.id, operation: 'delete' } },
        system,
        at(0.1, 2),
        command,
        deleted,
      );
    } else clientMessage(false);
  };

  let taken = 0;
  return {
    stream: conversationStream(conversationId),
    revision: -1,
    remaining: () => total - taken,
    take(count) {
      const n = Math.min(count, total - taken);
      while (queue.length < n) step();
      taken += n;
      // Events beyond the conversation's share are dropped (a conversation cut off mid-exchange).
      const out = queue.splice(0, n);
      if (taken === total) {
        // Done: keep nothing (at 5 M events there are 50 000 of these alive until the load ends).
        queue.length = 0;
        clientMessages.length = 0;
        replies.length = 0;
      }
      return out;
    },
  };
};

// ---------------------------------------------------------------------------------------------
// External-source conversations (bench -- api): ConversationStarted and the client's topic, then
// client messages (60 %), each copied into the topic as the Telegram reactor records it, and the
// managers' answers from the topic; text only. The app the bench measures has no Telegram: these are
// conversations from a time it had, as every external conversation in service has its topic.

const apiWords =
  'hello order delivery payment refund please thanks where is my parcel tracking number invoice account password reset help support card bank transfer status today tomorrow week address change cancel item size colour broken damaged replace return label courier warehouse discount promo code subscription renew price total receipt'.split(
    ' ',
  );
const apiTexts = (() => {
  const random = seeded(11);
  return Array.from({ length: 1024 }, () =>
    Array.from(
      { length: 3 + Math.floor(random() * random() * 40) },
      () => apiWords[Math.floor(random() * apiWords.length)]!,
    ).join(' '),
  );
})();

const apiManagers: readonly Actor[] = ['Alice', 'Boris', 'Chen', 'Dana'].map((name, i) => ({
  kind: 'manager',
  id: String(5_000_000 + i * 7919),
  name,
}));

export const externalIdOf = (i: number) => `client-${i}`;

export const externalConversation = (
  source: string,
  index: number,
  messages: number,
  random: () => number,
  now: number,
): Script => {
  const clientId = externalIdOf(index);
  const conversationId = conversationIdOf('external', source, clientId);
  const sourceActor: Actor = { kind: 'source', id: source };
  const reactor: Actor = { kind: 'system', id: 'reactor' };
  const topicId = String(10_000 + index);
  let groupSeq = 1;
  let t = now - 90 * 86_400_000 + random() * 30 * 86_400_000;
  let made = -1; // -1: ConversationStarted is next
  /** Events made and not yet taken: a message and what follows from it. */
  const queue: NewEvent[] = [];
  const event = (e: ConversationEvent, actor: Actor, cause?: NewEvent): NewEvent => {
    t += (cause ? 0.2 + random() : 10 + random() * 3600) * 1000;
    const command = cause?.metadata.correlationId ?? randomUUID();
    return {
      id: randomUUID(),
      type: e.type,
      data: e.data,
      metadata: {
        occurredAt: new Date(t).toISOString(),
        correlationId: command,
        causationId: cause?.id ?? command,
        actor,
      },
    };
  };
  const groupMessage = () => ({ chatId: supportChat, messageId: String(groupSeq++) });
  const next = () => {
    const k = made++;
    if (k < 0) {
      const started = event(
        {
          type: 'ConversationStarted',
          data: { conversationId, channel: 'external', source, clientId, profile: {} },
        },
        sourceActor,
      );
      const title = `${clientId} · ${source}`;
      queue.push(
        started,
        event({ type: 'TopicOpened', data: { topicId, chatId: supportChat, title } }, reactor, started),
      );
      return;
    }
    const text = apiTexts[Math.floor(random() * apiTexts.length)]!;
    if (k === 0 || random() < 0.6) {
      const messageId = randomUUID();
      const received = event(
        {
          type: 'ClientMessageReceived',
          data: { messageId, text, attachments: [], suppressed: false },
        },
        sourceActor,
      );
      queue.push(
        received,
        event(
          { type: 'ClientMessageForwarded', data: { messageId, topicId, groupMessage: groupMessage() } },
          reactor,
          received,
        ),
      );
      return;
    }
    const manager = apiManagers[Math.floor(random() * apiManagers.length)]!;
    queue.push(
      event(
        {
          type: 'ManagerReplied',
          data: {
            messageId: randomUUID(),
            managerId: manager.id,
            managerName: manager.name!,
            text,
            attachments: [],
            groupMessage: groupMessage(),
          },
        },
        manager,
      ),
    );
  };
  return {
    stream: conversationStream(conversationId),
    revision: -1,
    remaining: () => messages - made + queue.length,
    take(count) {
      const out: NewEvent[] = [];
      while (out.length < count && (queue.length > 0 || made < messages)) {
        if (queue.length === 0) next();
        out.push(queue.shift()!);
      }
      return out;
    },
  };
};
