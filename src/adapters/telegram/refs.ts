// Telegram ids in topicdesk's terms: conversations, message ids and command ids are derived, never
// looked up, so a re-delivered update names the very same things.
import { commandIdOf, conversationIdOf, eventIdOf } from '../ids.ts';

/**
 * Telegram conversations use the channel name as their source (docs/design.md, "Deterministic ids":
 * channel:source:clientId).
 */
export const TELEGRAM_SOURCE = 'telegram';

export const telegramConversationId = (userId: number | string): string =>
  conversationIdOf('telegram', TELEGRAM_SOURCE, String(userId));

/** A message's id in the domain: the same Telegram message always maps to the same id. */
export const telegramMessageId = (chatId: number | string, messageId: number | string): string =>
  eventIdOf(`telegram-message:${chatId}:${messageId}`);

/** update_id is unique per bot: with the bot id it names the update for good. */
export const updateCommandId = (botId: number, updateId: number): string =>
  commandIdOf('telegram', botId, updateId);
