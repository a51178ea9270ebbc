// The long conversations `bench -- growth` measures on, written straight into td_events by COPY (no
// command handler, no reactors: a history that happened long ago), and the bookkeeping around it:
// the reactors' (and, if asked, the projections') checkpoints moved past it, and the wait until the
// app's runners have caught up with the log.
//
// A conversation's history is what the command handler and the reactors write over months of
// traffic: client messages each copied into the topic (ClientMessageForwarded with its group message
// id), manager answers each delivered (ReplyDelivered, a few after a failed attempt), client edits,
// answer edits and deletions with their deliveries. Telegram conversations carry the client-chat
// message ids; message ids are derived as the Telegram adapter derives them. Ids on either side are
// numbered from 1 000 000 000, far above anything the stand-in hands out, so the messages sent while
// measuring never meet one of the history's.
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conversationIdOf } from '../src/adapters/ids.ts';
import { telegramMessageId } from '../src/adapters/telegram/refs.ts';
import type {
  Actor,
  Attachment,
  ClientProfile,
  ConversationEvent,
  EventMetadata,
} from '../src/domain/events.ts';
import { conversationStream } from '../src/domain/events.ts';
import { copyIn } from './copy.ts';
import { seeded } from './loader.ts';
import type { BenchDatabase } from './support.ts';

export interface HistorySpec {
  readonly channel: 'telegram' | 'external';
  /** `telegram` for Telegram conversations, the source's code for external ones. */
  readonly source: string;
  /** The Telegram user id, or the source's external id. */
  readonly clientId: string;
  readonly profile: ClientProfile;
  /** The topic (in the stand-in) the history's messages were copied into. */
  readonly topicId: string;
  readonly supportChatId: string;
  /** Client messages and manager answers (edits and deletions come on top). */
  readonly messages: number;
  readonly seed: number;
}

export interface HistoryRow {
  readonly id: string;
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

export const conversationOfSpec = (s: HistorySpec) => conversationIdOf(s.channel, s.source, s.clientId);

const words =
  'hello order delivery payment refund please thanks where is my parcel tracking number invoice account password reset help support card bank transfer status today tomorrow week address change cancel item size colour broken damaged replace return label courier warehouse discount promo code'.split(
    ' ',
  );
const texts = (() => {
  const random = seeded(13);
  return Array.from({ length: 2048 }, () =>
    Array.from(
      { length: 3 + Math.floor(random() * random() * 40) },
      () => words[Math.floor(random() * words.length)]!,
    ).join(' '),
  );
})();
const managers: readonly Actor[] = ['Alice', 'Boris', 'Chen', 'Dana'].map((name, i) => ({
  kind: 'manager',
  id: String(5_000_000 + i * 7919),
  name,
}));
const system: Actor = { kind: 'system', id: 'telegram' };
const FIRST_ID = 1_000_000_000;
const spanMs = 365 * 86_400_000;

/** The conversation's events in order, generated as they are taken (memory stays flat). */
export function* historyOf(spec: HistorySpec, now = Date.now()): Generator<HistoryRow> {
  const random = seeded(spec.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const stream = conversationStream(conversationOfSpec(spec));
  const telegram = spec.channel === 'telegram';
  const client: Actor = telegram
    ? { kind: 'client', id: spec.clientId }
    : { kind: 'source', id: spec.source };
  // About 2.1 events per message: spread them over the last year, the newest an hour ago.
  const step = spanMs / (spec.messages * 2.1 + 10);
  let t = now - spanMs - 3_600_000;
  let revision = 0;
  let channelSeq = FIRST_ID;
  let groupSeq = FIRST_ID;
  const recentClient: Array<{ id: string; text: string }> = [];
  const recentReplies: Array<{ id: string; text: string }> = [];
  const recent = <T>(xs: T[], x: T) => {
    xs.push(x);
    if (xs.length > 30) xs.shift();
  };
  const group = () => ({ chatId: spec.supportChatId, messageId: String(groupSeq++) });
  const content = () => {
    const text = pick(texts);
    const attachments: Attachment[] = [];
    if (random() < 0.08)
      attachments.push({
        kind: 'photo',
        fileRef: `AgACAgIAAxkBAAI${randomUUID().replaceAll('-', '')}`,
        fileUniqueId: `AQAD${groupSeq}`,
        mimeType: 'image/jpeg',
        size: 20_000 + Math.floor(random() * 400_000),
      });
    return { text, attachments };
  };
  const row = (event: ConversationEvent, actor: Actor, command: string, cause: string): HistoryRow => {
    t += step * (0.2 + random() * 1.6);
    return {
      id: randomUUID(),
      stream,
      revision: revision++,
      type: event.type,
      data: event.data,
      metadata: { occurredAt: new Date(t).toISOString(), correlationId: command, causationId: cause, actor },
    };
  };

  /** A client message and its copy in the topic (the first one opens the conversation and the topic). */
  function* clientMessage(first: boolean): Generator<HistoryRow> {
    const command = randomUUID();
    let cause: string = command;
    if (first) {
      const started = row(
        {
          type: 'ConversationStarted',
          data: {
            conversationId: conversationOfSpec(spec),
            channel: spec.channel,
            source: spec.source,
            clientId: spec.clientId,
            profile: spec.profile,
          },
        },
        client,
        command,
        command,
      );
      cause = started.id;
      yield started;
    }
    const ref = telegram ? { chatId: spec.clientId, messageId: String(channelSeq++) } : undefined;
    const messageId = ref ? telegramMessageId(ref.chatId, ref.messageId) : randomUUID();
    const c = content();
    const replyTo = !first && random() < 0.1 && recentReplies.length > 0 ? pick(recentReplies).id : undefined;
    const received = row(
      {
        type: 'ClientMessageReceived',
        data: {
          ...c,
          messageId,
          ...(ref ? { channelMessage: ref } : {}),
          ...(replyTo ? { replyTo } : {}),
          suppressed: false,
        },
      },
      client,
      command,
      cause,
    );
    yield received;
    recent(recentClient, { id: messageId, text: c.text });
    let forwardCause = received.id;
    if (first) {
      const opened = row(
        {
          type: 'TopicOpened',
          data: { topicId: spec.topicId, chatId: spec.supportChatId, title: `Client ${spec.clientId}` },
        },
        system,
        command,
        received.id,
      );
      forwardCause = opened.id;
      yield opened;
    }
    yield row(
      { type: 'ClientMessageForwarded', data: { messageId, topicId: spec.topicId, groupMessage: group() } },
      system,
      command,
      forwardCause,
    );
  }

  function* managerAnswer(): Generator<HistoryRow> {
    const manager = pick(managers);
    const command = randomUUID();
    const groupMessage = group();
    const messageId = telegramMessageId(groupMessage.chatId, groupMessage.messageId);
    const c = content();
    const replied = row(
      {
        type: 'ManagerReplied',
        data: {
          ...c,
          messageId,
          managerId: manager.id,
          managerName: manager.name!,
          groupMessage,
          ...(random() < 0.3 && recentClient.length > 0 ? { replyTo: pick(recentClient).id } : {}),
        },
      },
      manager,
      command,
      command,
    );
    yield replied;
    recent(recentReplies, { id: messageId, text: c.text });
    let cause = replied.id;
    if (random() < 0.03) {
      const failed = row(
        {
          type: 'DeliveryFailed',
          data: {
            messageId,
            operation: 'send',
            reason: 'Too Many Requests: retry after 3',
            permanent: false,
            attempt: 1,
            nextAttemptAt: new Date(t + 3000).toISOString(),
          },
        },
        system,
        command,
        replied.id,
      );
      cause = failed.id;
      yield failed;
    }
    yield row(
      {
        type: 'ReplyDelivered',
        data: {
          messageId,
          operation: 'send',
          ...(telegram ? { channelMessage: { chatId: spec.clientId, messageId: String(channelSeq++) } } : {}),
        },
      },
      system,
      command,
      cause,
    );
  }

  yield* clientMessage(true);
  for (let made = 1; made < spec.messages; ) {
    const r = random();
    if (r < 0.45) {
      yield* clientMessage(false);
      made++;
    } else if (r < 0.85) {
      yield* managerAnswer();
      made++;
    } else if (r < 0.92) {
      const m = pick(recentClient);
      const c = content();
      const command = randomUUID();
      yield row(
        {
          type: 'ClientMessageEdited',
          data: { ...c, attachments: [], messageId: m.id, previousText: m.text },
        },
        client,
        command,
        command,
      );
      m.text = c.text;
    } else if (recentReplies.length > 0) {
      const i = Math.floor(random() * recentReplies.length);
      const m = recentReplies[i]!;
      const command = randomUUID();
      const manager = pick(managers);
      const deleting = r >= 0.97;
      const changed = row(
        deleting
          ? { type: 'ManagerReplyDeleted', data: { messageId: m.id } }
          : {
              type: 'ManagerReplyEdited',
              data: { ...content(), attachments: [], messageId: m.id, previousText: m.text },
            },
        manager,
        command,
        command,
      );
      yield changed;
      if (deleting) recentReplies.splice(i, 1);
      yield row(
        { type: 'ReplyDelivered', data: { messageId: m.id, operation: deleting ? 'delete' : 'edit' } },
        system,
        command,
        changed.id,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Bulk load: COPY in chunks through a temporary file (bench/copy.ts), one transaction per chunk.

/** COPY's text format: JSON never holds a raw tab or newline, so only backslashes need doubling. */
const field = (s: string) => s.replaceAll('\\', '\\\\');

/**
 * Writes `rows` into td_events by COPY, `chunk` rows per COPY (one transaction each, so they take
 * log positions as one append of that size would). Returns the number of rows written.
 */
export const copyHistory = async (
  db: BenchDatabase,
  rows: Iterable<HistoryRow>,
  options: { chunk?: number; onChunk?: (written: number) => void } = {},
): Promise<number> => {
  const chunk = options.chunk ?? 100_000;
  const file = join(tmpdir(), `topicdesk-growth-${randomUUID()}.copy`);
  let written = 0;
  let fd = -1;
  let inFile = 0;
  const flush = async () => {
    if (fd < 0) return;
    closeSync(fd);
    fd = -1;
    await copyIn(db.pool, 'td_events (event_id, stream, revision, type, data, metadata, recorded_at)', file);
    written += inFile;
    inFile = 0;
    options.onChunk?.(written);
  };
  try {
    let lines: string[] = [];
    for (const r of rows) {
      if (fd < 0) fd = openSync(file, 'w');
      lines.push(
        `${r.id}\t${r.stream}\t${r.revision}\t${r.type}\t${field(JSON.stringify(r.data))}\t${field(JSON.stringify(r.metadata))}\t${r.metadata.occurredAt}\n`,
      );
      inFile++;
      if (lines.length >= 2000) {
        writeSync(fd, lines.join(''));
        lines = [];
      }
      if (inFile >= chunk) {
        if (lines.length > 0) writeSync(fd, lines.join(''));
        lines = [];
        await flush();
      }
    }
    if (lines.length > 0) writeSync(fd, lines.join(''));
    await flush();
  } finally {
    if (fd >= 0) closeSync(fd);
    rmSync(file, { force: true });
  }
  return written;
};

// ---------------------------------------------------------------------------------------------
// Checkpoints and catching up.

const head = `
  SELECT transaction_id::text::bigint AS c, position AS p FROM td_events
   ORDER BY transaction_id DESC, position DESC LIMIT 1`;

/**
 * Moves the reactors' checkpoints (and, with `projections`, the active projections') to the head of
 * the log: what is there was handled long ago. Only while no app runs on the database (a running
 * runner keeps its own position and would write it back).
 */
export const skipToHead = async (
  db: BenchDatabase,
  reactors: readonly string[],
  projections = false,
): Promise<void> => {
  await db.pool.query(
    `WITH head AS (${head})
     INSERT INTO td_reactors (name, checkpoint_commit, checkpoint_prepare)
     SELECT n, head.c, head.p FROM head, unnest($1::text[]) AS n
     ON CONFLICT (name) DO UPDATE
       SET checkpoint_commit = EXCLUDED.checkpoint_commit, checkpoint_prepare = EXCLUDED.checkpoint_prepare`,
    [reactors],
  );
  if (projections)
    await db.pool.query(
      `WITH head AS (${head})
       UPDATE td_projections SET checkpoint_commit = head.c, checkpoint_prepare = head.p
         FROM head WHERE status = 'active'`,
    );
};

/**
 * Waits until every active projection and every reactor has handled the last event of the log (the
 * same test as bench/api.ts: the log's order is (transaction id, position)).
 */
export const caughtUp = async (
  db: BenchDatabase,
  timeoutMs: number,
  progress?: (line: string) => void,
  pollMs = 10,
): Promise<void> => {
  const deadline = performance.now() + timeoutMs;
  let lastReport = performance.now();
  for (;;) {
    const { rows } = await db.pool.query<{ name: string; done: boolean; applied: string }>(
      `WITH head AS (${head})
       SELECT name, coalesce((checkpoint_commit, checkpoint_prepare) >= (head.c, head.p), false) AS done,
              events_applied::text AS applied
         FROM td_projections, head WHERE status = 'active'
       UNION ALL
       SELECT 'reactor ' || name, coalesce((checkpoint_commit, checkpoint_prepare) >= (head.c, head.p), false),
              events_handled::text
         FROM td_reactors, head`,
    );
    const behind = rows.filter((r) => !r.done);
    if (rows.length > 0 && behind.length === 0) return;
    if (performance.now() > deadline)
      throw new Error(`not caught up: ${behind.map((r) => r.name).join(', ')}`);
    if (progress && performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      progress(`  catching up: ${behind.map((r) => `${r.name} at ${r.applied} events`).join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
};
