// `/waiting`: the conversations whose client waits for an answer, oldest first, each with a link to
// its topic and its assignee (docs/design.md, "Assignment"). Read from rm_conversations.
import type pg from 'pg';
import { waitingNow } from '../../projections/read-models/reports-query.ts';
import type { Texts } from '../../texts/texts.ts';

export interface WaitingConversation {
  readonly conversationId: string;
  readonly title: string;
  readonly topicChatId: string | null;
  readonly topicId: string | null;
  readonly waitingSince: Date;
  readonly assigneeName: string | null;
}

export interface WaitingPage {
  readonly conversations: readonly WaitingConversation[];
  /** How many wait in all (the page may show fewer). */
  readonly total: number;
  /** How many of all those have no assignee ("unassigned waiting"). */
  readonly unassigned: number;
}

/** Lines one answer shows: a Telegram message holds 4096 characters. */
export const WAITING_SHOWN = 30;

export const waitingConversations = async (pool: pg.Pool, limit = WAITING_SHOWN): Promise<WaitingPage> => {
  const [page, counts] = await Promise.all([
    pool.query<{
      conversation_id: string;
      topic_title: string | null;
      topic_chat_id: string | null;
      topic_id: string | null;
      waiting_since: Date;
      assignee_name: string | null;
    }>(
      `SELECT conversation_id, topic_title, topic_chat_id, topic_id, waiting_since, assignee_name
       FROM rm_conversations WHERE waiting_since IS NOT NULL AND status = 'open'
       ORDER BY waiting_since, conversation_id LIMIT $1`,
      [limit],
    ),
    // The same counts the reports, the metrics and the digest show.
    waitingNow(pool, new Date()),
  ]);
  return {
    conversations: page.rows.map((r) => ({
      conversationId: r.conversation_id,
      title: r.topic_title ?? r.conversation_id,
      topicChatId: r.topic_chat_id,
      topicId: r.topic_id,
      waitingSince: r.waiting_since,
      assigneeName: r.assignee_name,
    })),
    total: counts.waiting,
    unassigned: counts.unassigned,
  };
};

/**
 * A link to a topic of a supergroup: `https://t.me/c/<chat id without -100>/<topic id>`, which opens
 * the topic for a member. Undefined for a chat id of another form (no supergroup, no topics).
 */
export const topicLink = (chatId: string, topicId: string): string | undefined => {
  const internal = /^-100(\d+)$/.exec(chatId)?.[1];
  return internal ? `https://t.me/c/${internal}/${topicId}` : undefined;
};

/** `2026-12-04 10:15 UTC`: minutes are enough to see who waits longest. */
const minuteUtc = (at: Date): string => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** The answer to `/waiting`, in the managers' language. */
export const waitingText = async (texts: Texts, page: WaitingPage): Promise<string> => {
  if (page.total === 0) return texts.topic('topic.waiting.none');
  const unassigned = await texts.topic('topic.waiting.unassigned');
  const lines = await Promise.all(
    page.conversations.map((c) =>
      texts.topic('topic.waiting.line', {
        title: c.title,
        link: (c.topicChatId && c.topicId && topicLink(c.topicChatId, c.topicId)) || '—',
        since: minuteUtc(c.waitingSince),
        assignee: c.assigneeName ?? unassigned,
      }),
    ),
  );
  const more = page.total - page.conversations.length;
  return [
    await texts.topic('topic.waiting.header', { count: page.total, unassigned: page.unassigned }),
    ...lines,
    ...(more > 0 ? [await texts.topic('topic.waiting.more', { count: more })] : []),
  ].join('\n');
};
