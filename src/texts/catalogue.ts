// Every text the bot writes to a client or into a topic, by key, in the languages shipped (English and
// Russian). A key declares its variables; an operator's override of a text is checked against them
// (docs/design.md, "Texts and languages").

import {
  fillPlaceholders,
  placeholdersOf as placeholders,
  type TextCatalogue,
} from '../domain/settings/texts.ts';

/** A language the catalogue ships. Other client languages fall back to the configured default. */
export type Locale = 'en' | 'ru';
export const locales: readonly Locale[] = ['en', 'ru'];

/** One entry: its texts per shipped language and the variables a text may use (`{name}`). */
interface Entry {
  readonly vars: readonly string[];
  /** Variables an override must keep: without them the text says nothing useful. */
  readonly required?: readonly string[];
  readonly en: string;
  readonly ru: string;
}

const entry = (e: Entry): Entry => e;

export const catalogue = {
  'client.banned': entry({
    vars: [],
    en: 'Your messages are not being forwarded to support at the moment.',
    ru: 'Сейчас ваши сообщения не передаются в поддержку.',
  }),
  'client.closed': entry({
    vars: [],
    en: 'This conversation was closed by support. Write again any time to reopen it.',
    ru: 'Поддержка закрыла этот диалог. Напишите снова в любое время — он откроется.',
  }),
  'topic.client_deleted': entry({
    vars: ['also'],
    en: '🗑 The client deleted this message{also}.',
    ru: '🗑 Клиент удалил это сообщение{also}.',
  }),
  'topic.client_deleted.also_file': entry({
    vars: [],
    en: ' and the file sent with it',
    ru: ' и файл, отправленный с ним',
  }),
  'topic.client_deleted.also_files': entry({
    vars: ['count'],
    en: ' and the {count} files sent with it',
    ru: ' и файлы ({count}), отправленные с ним',
  }),
  'topic.file_not_shown': entry({
    vars: ['reason', 'file'],
    en: '⚠️ A file of this client message could not be shown here ({reason}): {file}',
    ru: '⚠️ Файл из этого сообщения клиента не удалось показать здесь ({reason}): {file}',
  }),
  'topic.message_not_shown': entry({
    vars: ['reason'],
    en: '⚠️ A client message could not be shown here ({reason}). Its text: ',
    ru: '⚠️ Сообщение клиента не удалось показать здесь ({reason}). Его текст: ',
  }),
  'topic.bot_blocked': entry({
    vars: [],
    en: '⚠️ The client has blocked the bot: answers cannot reach them until they unblock it.',
    ru: '⚠️ Клиент заблокировал бота: ответы не дойдут, пока он его не разблокирует.',
  }),
  'topic.answers_cannot_reach': entry({
    vars: ['reason'],
    en: '⚠️ Answers cannot reach the client ({reason}).',
    ru: '⚠️ Ответы не доходят до клиента ({reason}).',
  }),
  'topic.vk_not_allowed': entry({
    vars: [],
    en: '⚠️ VK does not let the community write to this client (error 901: they have not allowed messages from the community, or turned them off). Answers cannot reach them until they write to the community again.',
    ru: '⚠️ VK не даёт сообществу писать этому клиенту (ошибка 901: клиент не разрешил сообщения от сообщества или отключил их). Ответы не дойдут, пока он снова не напишет сообществу.',
  }),
  'topic.vk_cannot_reach': entry({
    vars: ['reason'],
    en: '⚠️ Answers cannot reach the client on VK ({reason}).',
    ru: '⚠️ Ответы не доходят до клиента во VK ({reason}).',
  }),
  'topic.vk_answer_failed': entry({
    vars: ['reason'],
    en: '⚠️ This answer did not reach the client on VK: {reason}',
    ru: '⚠️ Этот ответ не дошёл до клиента во VK: {reason}',
  }),
  'topic.vk_edit_failed': entry({
    vars: ['reason'],
    en: '⚠️ The edit did not reach the client on VK: {reason}',
    ru: '⚠️ Правка не дошла до клиента во VK: {reason}',
  }),
  'topic.vk_delete_failed': entry({
    vars: ['reason'],
    en: '⚠️ Deleted here, but VK would not remove the answer from the client’s chat ({reason}; VK allows it within 24 hours).',
    ru: '⚠️ Удалено здесь, но VK не удалил ответ из чата клиента ({reason}; VK позволяет это в течение 24 часов).',
  }),
} as const satisfies Record<string, Entry>;

export type TextKey = keyof typeof catalogue;
export const textKeys = Object.keys(catalogue) as TextKey[];

/** `{name}` placeholders filled from `vars`; an unknown placeholder stays as written. */
export const fill = fillPlaceholders;

/** The placeholders a text uses, in order of first use. */
export const placeholdersOf = placeholders;

export const isTextKey = (key: string): key is TextKey => Object.hasOwn(catalogue, key);

/** The catalogue as the `texts` settings check overrides against it. */
export const textCatalogue: TextCatalogue = {
  locales,
  entry: (key) => {
    if (!isTextKey(key)) return undefined;
    const e: Entry = catalogue[key];
    return { vars: e.vars, required: e.required ?? [] };
  },
};

/**
 * A shipped language for a client's language tag (`ru`, `ru-RU`, `en_US`), or undefined when the
 * catalogue does not ship it (the caller falls back to the configured default).
 */
export const localeOf = (tag: string | undefined): Locale | undefined => {
  const primary = tag?.trim().toLowerCase().split(/[-_]/)[0];
  return locales.find((l) => l === primary);
};

/** The shipped text of `key` in `locale`, filled. Overrides are applied by the texts service. */
export const shippedText = (
  key: TextKey,
  locale: Locale,
  vars: Readonly<Record<string, string | number>> = {},
): string => fill(catalogue[key][locale], vars);
