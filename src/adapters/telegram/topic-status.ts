// The topic's status at a glance — waiting for an answer, answered, closed — as a title prefix or the
// topic's icon (TOPIC_STATUS), changed only on transitions (docs/design.md, "Topic status").
//
// The edits are the least urgent calls the bot makes: they wait until the support group's queue is
// empty and its window keeps room for client messages (the limiter's whenQuiet), one topic's wants
// are coalesced (only the latest is made; the ones it replaced are dropped), and a want the topic
// already shows is dropped too. They run beside the reactor, never inside its turn: a status edit
// waiting for a quiet moment must not hold up the batch that carries the next client message.
import type { Api } from 'grammy';
import type { Logger } from 'pino';
import type { RecordedEvent } from '../../domain/event-log.ts';
import type { TopicStatus } from '../../domain/events.ts';
import { refusal } from './errors.ts';
import { LimiterStoppedError, type OutgoingLimiter } from './limiter.ts';
import { TOPIC_TITLE_LIMIT, truncate } from './topic-title.ts';

export type TopicStatusMode = 'off' | 'title' | 'icon';

/** The title's prefix per status (title mode). */
export const STATUS_PREFIX: Readonly<Record<TopicStatus, string>> = {
  waiting: '🔴',
  answered: '🟢',
  closed: '⚪',
};

/** The emoji whose forum-topic icon stands for each status (icon mode); found by getForumTopicIconStickers. */
export const STATUS_ICON_EMOJI: Readonly<Record<TopicStatus, string>> = {
  waiting: '❗',
  answered: '💬',
  closed: '✅',
};

/** The topic's name showing `status`: the prefix, a space, the title; at most Telegram's 128 characters. */
export const statusTitle = (title: string, status: TopicStatus): string =>
  truncate(`${STATUS_PREFIX[status]} ${title}`, TOPIC_TITLE_LIMIT);

/** The emoji without variation selectors: Telegram writes ❗️ and ❗ for the same icon. */
const bareEmoji = (emoji: string) => emoji.replace(/\uFE0F/g, '');

/**
 * The custom emoji ids of the three status icons among the stickers Telegram allows as topic icons;
 * undefined when one is missing (the caller falls back to title prefixes).
 */
export const statusIcons = (
  stickers: ReadonlyArray<{ readonly emoji?: string; readonly custom_emoji_id?: string }>,
): Record<TopicStatus, string> | undefined => {
  const byEmoji = new Map<string, string>();
  for (const s of stickers)
    if (s.emoji && s.custom_emoji_id && !byEmoji.has(bareEmoji(s.emoji)))
      byEmoji.set(bareEmoji(s.emoji), s.custom_emoji_id);
  const found = Object.fromEntries(
    Object.entries(STATUS_ICON_EMOJI).map(([status, emoji]) => [status, byEmoji.get(bareEmoji(emoji))]),
  ) as Record<TopicStatus, string | undefined>;
  return Object.values(found).every(Boolean) ? (found as Record<TopicStatus, string>) : undefined;
};

/** How a topic shows its status: the fields createForumTopic and editForumTopic take. */
export type StatusLook =
  | { readonly mode: 'title' }
  | { readonly mode: 'icon'; readonly icons: Readonly<Record<TopicStatus, string>> };

export const lookFields = (
  look: StatusLook,
  title: string,
  status: TopicStatus,
): { name?: string; icon_custom_emoji_id?: string } =>
  look.mode === 'title' ? { name: statusTitle(title, status) } : { icon_custom_emoji_id: look.icons[status] };

/** A topic should show `status`; `cause` is the event that made it so (the outcome is recorded against it). */
export interface StatusWant {
  readonly conversationId: string;
  readonly topicId: string;
  /** The topic's title as opened (title mode prefixes it). */
  readonly title: string;
  readonly status: TopicStatus;
  /** What the log says the topic shows now; a want of that very status needs no edit. */
  readonly shown: TopicStatus | undefined;
  readonly cause: RecordedEvent;
}

export interface TopicStatusBoardOptions {
  readonly api: Api;
  readonly supportChatId: string;
  readonly look: StatusLook;
  readonly limiter: Pick<OutgoingLimiter, 'whenQuiet'>;
  /** Records that the topic now shows the want's status (TopicStatusChanged). */
  readonly record: (want: StatusWant) => Promise<void>;
  readonly logger: Logger;
  /** Tests and metrics: a want dropped because a later one replaced it, or the topic shows it already. */
  readonly onDropped?: (want: StatusWant) => void;
}

export interface TopicStatusBoard {
  want(want: StatusWant): void;
  /** Wants not made yet. */
  pending(): number;
  /** Resolves once every want so far is made or dropped (tests). */
  idle(): Promise<void>;
}

export const createTopicStatusBoard = (options: TopicStatusBoardOptions): TopicStatusBoard => {
  const { api, supportChatId, look, limiter, logger } = options;
  /** Per topic, the latest want not yet made; a Map keeps the topics in the order they first asked. */
  const wanted = new Map<string, StatusWant>();
  let running: Promise<void> | undefined;

  const drop = (want: StatusWant) => options.onDropped?.(want);

  const apply = async (want: StatusWant) => {
    try {
      await api.editForumTopic(
        supportChatId,
        Number(want.topicId),
        lookFields(look, want.title, want.status),
      );
    } catch (error) {
      // "Not modified": it shows that already (an edit made before a crash, not yet recorded).
      if (refusal(error)?.kind !== 'not-modified') {
        if (error instanceof LimiterStoppedError) return;
        // The topic is gone (the next client message opens another) or Telegram refuses: a status
        // is not worth retrying; the next transition tries again.
        logger.info(
          { err: error, conversationId: want.conversationId, topicId: want.topicId },
          'topic status not shown',
        );
        return;
      }
    }
    await options
      .record(want)
      .catch((err: unknown) =>
        logger.warn({ err, conversationId: want.conversationId }, 'topic status shown but not recorded'),
      );
  };

  const run = async () => {
    while (wanted.size > 0) {
      try {
        await limiter.whenQuiet(supportChatId);
      } catch {
        // The limiter stopped (the service is stopping): what is left is not made. The log keeps
        // what each topic shows, so the next transition after the restart sets it right.
        for (const w of wanted.values()) drop(w);
        wanted.clear();
        return;
      }
      const [topicId, want] = wanted.entries().next().value!;
      wanted.delete(topicId);
      await apply(want);
    }
  };

  const start = () => {
    running = run().finally(() => {
      running = undefined;
      if (wanted.size > 0) start();
    });
  };

  return {
    want(want) {
      const waiting = wanted.get(want.topicId);
      if (waiting) drop(waiting);
      if (want.status === want.shown) {
        // Back to what the topic shows (answered, then a client message, then answered again
        // before the edit was made): nothing to edit.
        wanted.delete(want.topicId);
        drop(want);
        return;
      }
      wanted.set(want.topicId, want);
      if (!running) start();
    },
    pending: () => wanted.size,
    async idle() {
      while (running) await running;
    },
  };
};
