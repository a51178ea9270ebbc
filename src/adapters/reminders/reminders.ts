// Reminders in the topics of clients who wait too long (docs/design.md, "Reminders and the daily
// digest"). One pass: the conversations waiting longer than the first reminder's wall-clock wait
// (rm_conversations, its index of open waiting rows), each judged on its state by the domain's rule;
// a due one waits for a quiet moment in the limiter, is recorded (ReminderSent, a command id of the
// conversation, the wait and the number, so it is decided once) and only then posted.
import type { MessageEntity } from 'grammy/types';
import type pg from 'pg';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { ConversationCore } from '../../domain/conversation-core.ts';
import type { ConversationReader } from '../../domain/conversation-reader.ts';
import type { Actor } from '../../domain/events.ts';
import {
  type Deadline,
  type NextReminder,
  nextReminder,
  type ReminderPolicy,
  reminderDueAt,
} from '../../domain/reminders.ts';
import type { Texts } from '../../texts/texts.ts';
import { commandIdOf } from '../ids.ts';
import { durationText } from './words.ts';

export const REMINDER_ACTOR: Actor = { kind: 'system', id: 'reminders' };

/** What posts into the support group: low priority, after a quiet moment (docs/design.md, "The limiter's priorities"). */
export interface GroupPoster {
  /** Resolves when a low-priority message may go without holding up a client's; rejects when stopping. */
  quiet(signal: AbortSignal): Promise<void>;
  /** Posts into a topic, or into General when `topicId` is undefined. */
  post(topicId: string | undefined, text: string, entities?: MessageEntity[]): Promise<void>;
}

export interface ReminderContext {
  readonly pool: pg.Pool;
  readonly reader: ConversationReader;
  readonly handler: CommandHandler;
  readonly texts: Texts;
  readonly poster: GroupPoster;
  readonly policy: ReminderPolicy;
  readonly logger: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** Per conversation, what its state said at a revision of the read model: not read again until that moves. */
  readonly memo: Map<string, { readonly revision: number; readonly next: NextReminder | undefined }>;
}

/** Rows read at a time; a pass reads them all, page by page (capped ones cost no read of their state). */
const PAGE = 500;

interface Candidate {
  conversation_id: string;
  revision: string;
  /** As PostgreSQL prints it, so the next page starts exactly after it (a Date keeps milliseconds only). */
  waiting_since: string;
}

/** Every open conversation waiting since `before` or earlier, oldest wait first, a page at a time. */
async function* candidates(ctx: ReminderContext, now: Date): AsyncGenerator<Candidate> {
  // Working time never runs ahead of the wall clock: whoever is due has waited at least this long.
  const before = new Date(now.getTime() - ctx.policy.afterMs);
  let after: Candidate | undefined;
  for (;;) {
    const { rows } = await ctx.pool.query<Candidate>(
      `SELECT conversation_id, revision::text, waiting_since::text FROM rm_conversations
        WHERE waiting_since IS NOT NULL AND status = 'open' AND waiting_since <= $1
          AND ($2::timestamptz IS NULL OR (waiting_since, conversation_id) > ($2, $3::uuid))
        ORDER BY waiting_since, conversation_id LIMIT $4`,
      [before, after?.waiting_since ?? null, after?.conversation_id ?? null, PAGE],
    );
    yield* rows;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1];
  }
}

/** The next reminder of a candidate, from the memo while its read-model revision has not moved. */
const nextOf = async (ctx: ReminderContext, c: Candidate): Promise<NextReminder | undefined> => {
  const revision = Number(c.revision);
  const known = ctx.memo.get(c.conversation_id);
  if (known && known.revision === revision) return known.next;
  const read = await ctx.reader.read(c.conversation_id, { atLeast: revision });
  const next = nextReminder(read.state, ctx.policy);
  ctx.memo.set(c.conversation_id, { revision, next });
  return next;
};

/**
 * `text` with `{assignee}` filled by `name`, and a text mention of the user on its first place: the
 * assignee gets a notification whether or not they have a @username. Offsets count UTF-16 units,
 * as Telegram's do.
 */
export const withMention = (
  template: (assignee: string) => Promise<string>,
  name: string,
  userId: number,
): Promise<{ text: string; entities: MessageEntity[] }> => {
  const marker = '\u2063\u2063assignee\u2063\u2063';
  return template(marker).then((marked) => {
    const offset = marked.indexOf(marker);
    const text = marked.split(marker).join(name);
    if (offset < 0 || !Number.isSafeInteger(userId)) return { text, entities: [] };
    return {
      text,
      entities: [
        {
          type: 'text_mention',
          offset,
          length: name.length,
          user: { id: userId, is_bot: false, first_name: name },
        },
      ],
    };
  });
};

/** The reminder's words, in the managers' language (LOCALE). */
export const reminderText = async (
  texts: Texts,
  core: ConversationCore,
  reminder: { waitingSince: string; number: number },
  max: number,
  now: Date,
): Promise<{ text: string; entities: MessageEntity[] }> => {
  const since = new Date(reminder.waitingSince);
  const vars = {
    waited: await durationText(texts, (now.getTime() - since.getTime()) / 1000),
    since: `${since.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    number: reminder.number,
    max,
  };
  const assignee = core.assignee;
  if (!assignee) return { text: await texts.topic('topic.reminder.unassigned', vars), entities: [] };
  return withMention(
    (name) => texts.topic('topic.reminder.assigned', { ...vars, assignee: name }),
    assignee.name,
    Number(assignee.id),
  );
};

/** One conversation's due reminder: recorded first, then posted (at most once). */
const remind = async (
  ctx: ReminderContext,
  id: string,
  next: NextReminder,
  now: () => Date,
  signal: AbortSignal,
) => {
  // The quiet moment first: a reminder decided and then held up behind client messages could be
  // posted after the manager answered.
  await ctx.poster.quiet(signal);
  const at = now();
  const result = await ctx.handler.execute(
    id,
    { type: 'RecordReminder', waitingSince: next.waitingSince, number: next.number },
    {
      commandId: commandIdOf('reminder', id, next.waitingSince, next.number),
      actor: REMINDER_ACTOR,
      occurredAt: at.toISOString(),
    },
  );
  ctx.memo.delete(id);
  const event = result.events[0];
  if (event?.type !== 'ReminderSent') return false;
  const { text, entities } = await reminderText(ctx.texts, result.state, next, ctx.policy.max, at);
  try {
    await ctx.poster.post(event.data.topicId, text, entities);
  } catch (error) {
    if (signal.aborted) throw error;
    // The topic is gone, or Telegram refuses: the reminder is recorded, and is not tried again.
    ctx.logger.warn({ err: error, conversationId: id }, 'reminder recorded but not posted');
  }
  return true;
};

/**
 * Posts every reminder due at `now`, one at a time, oldest wait first. Answers when the next one
 * falls due (undefined: nothing is coming that the read model shows yet).
 */
export const remindDue = async (
  ctx: ReminderContext,
  now: () => Date,
  deadline: Deadline,
  signal: AbortSignal,
): Promise<{ posted: number; nextDueAt: Date | undefined }> => {
  let posted = 0;
  let nextDueAt: Date | undefined;
  const seen = new Set<string>();
  for await (const c of candidates(ctx, now())) {
    if (signal.aborted) break;
    seen.add(c.conversation_id);
    const next = await nextOf(ctx, c);
    const at = next && reminderDueAt(next, deadline);
    if (!next || at === undefined) continue;
    if (at > now()) {
      if (!nextDueAt || at < nextDueAt) nextDueAt = at;
      continue;
    }
    try {
      if (await remind(ctx, c.conversation_id, next, now, signal)) posted++;
    } catch (error) {
      if (signal.aborted) throw error;
      // One conversation's failure (the log, a refusal) must not hold up the others' reminders.
      ctx.memo.delete(c.conversation_id);
      ctx.logger.warn(
        { err: error, conversationId: c.conversation_id },
        'reminder not recorded; tried again next pass',
      );
      // Not at once: at the next pass, at most a minute away.
    }
  }
  // Conversations no longer waiting leave the memo.
  for (const id of ctx.memo.keys()) if (!seen.has(id)) ctx.memo.delete(id);
  return { posted, nextDueAt };
};
