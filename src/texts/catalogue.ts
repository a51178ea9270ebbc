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

/**
 * One entry: its texts per shipped language and the variables a text may use (`{name}`). English is
 * the reference and always there; a key added without another language's text falls back to the
 * configured default language (logged once per key and language).
 */
export interface Entry {
  readonly vars: readonly string[];
  /** Variables an override must keep: without them the text says nothing useful. */
  readonly required?: readonly string[];
  /**
   * Names of variants an operator may override on their own (`client.welcome.telegram`): the
   * variant's override wins, else the key's own text serves every variant.
   */
  readonly variants?: readonly string[];
  readonly en: string;
  readonly ru?: string;
}

/** The channels, as variants of the texts a client receives on each. */
const channels = ['telegram', 'vk', 'external'] as const;

const entry = (e: Entry): Entry => e;

export const catalogue = {
  'client.welcome': entry({
    vars: [],
    variants: channels,
    en: 'Hello! Your message has reached our support team. We will answer here as soon as we can.',
    ru: 'Здравствуйте! Ваше сообщение получила служба поддержки. Мы ответим здесь, как только сможем.',
  }),
  'client.off_hours': entry({
    vars: ['opens_at'],
    required: ['opens_at'],
    variants: channels,
    en: 'Thank you for your message! Support is closed right now; we will answer when we open again: {opens_at}.',
    ru: 'Спасибо за сообщение! Сейчас поддержка не работает; мы ответим, когда снова откроемся: {opens_at}.',
  }),
  'client.off_hours_no_opening': entry({
    vars: [],
    variants: channels,
    en: 'Thank you for your message! Support is closed right now; we will answer as soon as we can.',
    ru: 'Спасибо за сообщение! Сейчас поддержка не работает; мы ответим, как только сможем.',
  }),
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
  'topic.auto_reply.welcome': entry({
    vars: ['text'],
    required: ['text'],
    en: '🤖 Sent to the client automatically (welcome):\n{text}',
    ru: '🤖 Отправлено клиенту автоматически (приветствие):\n{text}',
  }),
  'topic.auto_reply.off_hours': entry({
    vars: ['text'],
    required: ['text'],
    en: '🤖 Sent to the client automatically (outside working hours):\n{text}',
    ru: '🤖 Отправлено клиенту автоматически (нерабочее время):\n{text}',
  }),
  'topic.card.channel': entry({
    vars: ['channel', 'source'],
    en: '📨 Channel: {channel} · Source: {source}',
    ru: '📨 Канал: {channel} · Источник: {source}',
  }),
  'topic.card.client': entry({ vars: [], en: '🆔 Client: ', ru: '🆔 Клиент: ' }),
  'topic.card.conversation': entry({ vars: [], en: '💬 Conversation: ', ru: '💬 Диалог: ' }),
  'topic.card.language': entry({
    vars: ['language'],
    en: '🌐 Language: {language}',
    ru: '🌐 Язык: {language}',
  }),
  'topic.command.ban': entry({
    vars: [],
    en: 'Client banned: their messages are recorded but not forwarded.',
    ru: 'Клиент заблокирован: его сообщения записываются, но не пересылаются.',
  }),
  'topic.command.unban': entry({ vars: [], en: 'Client unbanned.', ru: 'Клиент разблокирован.' }),
  'topic.command.close': entry({
    vars: [],
    en: 'Conversation closed; the client was told.',
    ru: 'Диалог закрыт; клиенту сообщили.',
  }),
  'topic.command.reopen': entry({ vars: [], en: 'Conversation reopened.', ru: 'Диалог снова открыт.' }),
  'topic.command.delete': entry({ vars: [], en: 'Answer deleted.', ru: 'Ответ удалён.' }),
  'topic.command.delete_usage': entry({
    vars: [],
    en: 'Reply /delete to one of your answers to delete it from the client’s chat.',
    ru: 'Ответьте /delete на один из своих ответов, чтобы удалить его из чата клиента.',
  }),
  'topic.command.not_done': entry({
    vars: ['reason'],
    required: ['reason'],
    en: 'Not done: {reason}',
    ru: 'Не выполнено: {reason}',
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
  'topic.card.close': entry({ vars: [], en: 'Close', ru: 'Закрыть' }),
  'topic.card.reopen': entry({ vars: [], en: 'Reopen', ru: 'Открыть снова' }),
  'topic.card.ban': entry({ vars: [], en: 'Ban', ru: 'Заблокировать' }),
  'topic.card.unban': entry({ vars: [], en: 'Unban', ru: 'Разблокировать' }),
  'topic.card.info': entry({ vars: [], en: 'Info', ru: 'Инфо' }),
  'topic.press.not_member': entry({
    vars: [],
    en: 'Only members of the support group can use these buttons.',
    ru: 'Эти кнопки доступны только участникам группы поддержки.',
  }),
  'topic.press.closed': entry({
    vars: [],
    en: 'Conversation closed; the client was told.',
    ru: 'Диалог закрыт, клиент уведомлён.',
  }),
  'topic.press.reopened': entry({ vars: [], en: 'Conversation reopened.', ru: 'Диалог открыт снова.' }),
  'topic.press.banned': entry({
    vars: [],
    en: 'Client banned: their messages are recorded but not forwarded.',
    ru: 'Клиент заблокирован: его сообщения записываются, но не пересылаются.',
  }),
  'topic.press.unbanned': entry({ vars: [], en: 'Client unbanned.', ru: 'Клиент разблокирован.' }),
  'topic.press.template_sent': entry({
    vars: ['name'],
    en: 'Saved answer “{name}” sent to the client.',
    ru: 'Сохранённый ответ «{name}» отправлен клиенту.',
  }),
  'topic.press.info': entry({ vars: [], en: 'Contact card posted below.', ru: 'Карточка клиента — ниже.' }),
  'topic.press.not_done': entry({
    vars: ['reason'],
    required: ['reason'],
    en: 'Not done: {reason}',
    ru: 'Не сделано: {reason}',
  }),
  'topic.press.unknown': entry({
    vars: [],
    en: 'This button no longer works.',
    ru: 'Эта кнопка больше не работает.',
  }),
  'topic.press.failed': entry({
    vars: [],
    en: 'Could not be done just now; try again in a moment.',
    ru: 'Сейчас не получилось; попробуйте чуть позже.',
  }),
  // Manager commands in a topic: the help list (one line per command, from the command table in
  // src/adapters/telegram/commands.ts), notes and saved answers.
  'topic.unknown_command': entry({
    vars: ['command', 'commands'],
    required: ['command', 'commands'],
    en: '⛔ Not sent: {command} is not a command, so nothing reached the client. The commands:\n{commands}',
    ru: '⛔ Не отправлено: {command} — не команда, клиент ничего не получил. Команды:\n{commands}',
  }),
  'topic.note_prefix_help': entry({
    vars: ['prefix'],
    required: ['prefix'],
    en: 'A message starting with {prefix} is a note too.',
    ru: 'Сообщение, начинающееся с {prefix}, — тоже заметка.',
  }),
  'topic.help.note': entry({
    vars: ['command'],
    required: ['command'],
    en: '{command} <text> — an internal note for the team: recorded, never sent to the client',
    ru: '{command} <текст> — внутренняя заметка для команды: записывается, клиенту не отправляется',
  }),
  'topic.help.send': entry({
    vars: ['command'],
    required: ['command'],
    en: '{command} <text> — send a text that starts with a slash: {command} /start',
    ru: '{command} <текст> — отправить текст, начинающийся с косой черты: {command} /start',
  }),
  'topic.help.t': entry({
    vars: ['command'],
    required: ['command'],
    en: '{command} <name> — send a saved answer; {command} alone lists them as buttons',
    ru: '{command} <имя> — отправить сохранённый ответ; просто {command} — список кнопками',
  }),
  'topic.help.pin': entry({
    vars: ['command'],
    required: ['command'],
    en: '{command} <text> — pin a note to this client (replaces the last one); /info shows it',
    ru: '{command} <текст> — закрепить заметку о клиенте (заменяет прежнюю); её показывает /info',
  }),
  'topic.help.unpin': entry({
    vars: ['command'],
    required: ['command'],
    en: '{command} — remove the pinned note',
    ru: '{command} — убрать закреплённую заметку',
  }),
  'topic.help.info': entry({
    vars: ['command'],
    required: ['command'],
    en: '{command} — the contact card and the pinned note',
    ru: '{command} — карточка клиента и закреплённая заметка',
  }),
  'topic.help.close': entry({
    vars: ['command'],
    required: ['command'],
    en: '{command} — close the conversation (the client is told; writing again reopens it)',
    ru: '{command} — закрыть диалог (клиенту сообщается; новое сообщение откроет его снова)',
  }),
  'topic.help.reopen': entry({
    vars: ['command'],
    required: ['command'],
    en: '{command} — reopen a closed conversation',
    ru: '{command} — снова открыть закрытый диалог',
  }),
  'topic.help.ban': entry({
    vars: ['command'],
    required: ['command'],
    en: "{command} [reason] — stop forwarding the client's messages (still recorded)",
    ru: '{command} [причина] — перестать пересылать сообщения клиента (они всё равно записываются)',
  }),
  'topic.help.unban': entry({
    vars: ['command'],
    required: ['command'],
    en: '{command} — forward the client again',
    ru: '{command} — снова пересылать сообщения клиента',
  }),
  'topic.help.delete': entry({
    vars: ['command'],
    required: ['command'],
    en: "{command} — as a reply to one of your answers: delete it from the client's chat",
    ru: '{command} — ответом на ваше сообщение: удалить его из чата клиента',
  }),
  'topic.pinned': entry({
    vars: [],
    en: '📌 Pinned to this client; /info shows it.',
    ru: '📌 Заметка закреплена; её показывает /info.',
  }),
  'topic.unpinned': entry({
    vars: [],
    en: 'Pinned note removed.',
    ru: 'Закреплённая заметка убрана.',
  }),
  'topic.no_pinned_note': entry({
    vars: [],
    en: 'Not done: this client has no pinned note.',
    ru: 'Не выполнено: у этого клиента нет закреплённой заметки.',
  }),
  'topic.card_pinned_note': entry({
    vars: ['text', 'manager'],
    required: ['text'],
    en: '📌 Note: {text} ({manager})',
    ru: '📌 Заметка: {text} ({manager})',
  }),
  'topic.card.assignee': entry({
    vars: ['assignee'],
    required: ['assignee'],
    en: '🙋 Assigned to: {assignee}',
    ru: '🙋 Ответственный: {assignee}',
  }),
  'topic.card.unassigned': entry({ vars: [], en: '🙋 Not assigned', ru: '🙋 Никто не назначен' }),
  'topic.help.take': entry({
    vars: ['command'],
    required: ['command'],
    en: '{command} — take the conversation (assign it to yourself)',
    ru: '{command} — взять диалог себе',
  }),
  'topic.help.assign': entry({
    vars: ['command'],
    required: ['command'],
    en: '{command} @username — assign the conversation to a member (or reply to their message with {command})',
    ru: '{command} @username — назначить диалог участнику (или ответьте {command} на его сообщение)',
  }),
  'topic.help.unassign': entry({
    vars: ['command'],
    required: ['command'],
    en: '{command} — remove the assignee',
    ru: '{command} — снять ответственного',
  }),
  'topic.help.waiting': entry({
    vars: ['command'],
    required: ['command'],
    en: '{command} — list the clients waiting for an answer, oldest first (also in General)',
    ru: '{command} — список клиентов, ждущих ответа, сначала самые давние (и в General)',
  }),
  'topic.assigned': entry({
    vars: ['assignee'],
    required: ['assignee'],
    en: '🙋 Assigned to {assignee}.',
    ru: '🙋 Ответственный: {assignee}.',
  }),
  'topic.already_assigned': entry({
    vars: ['assignee'],
    required: ['assignee'],
    en: 'Already assigned to {assignee}.',
    ru: 'Уже назначен: {assignee}.',
  }),
  'topic.unassigned': entry({
    vars: ['assignee'],
    en: 'Unassigned (was {assignee}).',
    ru: 'Ответственный снят (был {assignee}).',
  }),
  'topic.not_assigned': entry({
    vars: [],
    en: 'Not done: the conversation has no assignee.',
    ru: 'Не выполнено: у диалога нет ответственного.',
  }),
  'topic.assign_unknown': entry({
    vars: ['username'],
    required: ['username'],
    en: 'Not done: I have not seen {username} write in this group yet (or they are not a member). Reply to one of their messages with /assign instead.',
    ru: 'Не выполнено: {username} ещё не писал(а) в этой группе (или не участник). Ответьте /assign на его сообщение.',
  }),
  'topic.waiting.none': entry({
    vars: [],
    en: 'No client is waiting for an answer.',
    ru: 'Ни один клиент не ждёт ответа.',
  }),
  'topic.waiting.header': entry({
    vars: ['count', 'unassigned'],
    en: 'Waiting for an answer: {count} ({unassigned} unassigned), oldest first:',
    ru: 'Ждут ответа: {count} (без ответственного: {unassigned}), сначала самые давние:',
  }),
  'topic.waiting.line': entry({
    vars: ['title', 'link', 'since', 'assignee'],
    required: ['link'],
    en: '{title} — {link} — waiting since {since} — {assignee}',
    ru: '{title} — {link} — ждёт с {since} — {assignee}',
  }),
  'topic.waiting.unassigned': entry({ vars: [], en: 'unassigned', ru: 'без ответственного' }),
  'topic.waiting.more': entry({
    vars: ['count'],
    en: '…and {count} more.',
    ru: '…и ещё {count}.',
  }),
  'topic.templates_pick': entry({
    vars: [],
    en: 'Pick a saved answer to send to the client:',
    ru: 'Выберите сохранённый ответ для клиента:',
  }),
  'topic.templates_more': entry({
    vars: ['count'],
    required: ['count'],
    en: '{count} more are not shown as buttons: send /t <name>.',
    ru: 'Ещё {count} не показаны кнопками: отправьте /t <имя>.',
  }),
  'topic.templates_none': entry({
    vars: [],
    en: 'No saved answers yet: an operator adds them with `topicdesk templates:set <name> <text>` or the admin API.',
    ru: 'Сохранённых ответов пока нет: их добавляют командой `topicdesk templates:set <имя> <текст>` или через admin API.',
  }),
  'topic.template_unknown': entry({
    vars: ['name', 'names'],
    required: ['name'],
    en: 'Not sent: there is no saved answer “{name}”. Saved answers: {names}',
    ru: 'Не отправлено: сохранённого ответа «{name}» нет. Сохранённые ответы: {names}',
  }),
  'topic.answer_too_long': entry({
    vars: ['length', 'limit'],
    required: ['length'],
    en: 'Not sent: the text has {length} characters, a message holds at most {limit}.',
    ru: 'Не отправлено: в тексте {length} символов, а в сообщение помещается не больше {limit}.',
  }),
  'topic.answer_not_shown': entry({
    vars: ['reason'],
    en: 'Not sent: the answer could not be shown in the topic first ({reason}). Try again.',
    ru: 'Не отправлено: ответ не удалось показать в теме ({reason}). Попробуйте ещё раз.',
  }),
} as const satisfies Record<string, Entry>;

export type TextKey = keyof typeof catalogue;
export const textKeys = Object.keys(catalogue) as TextKey[];

/** `{name}` placeholders filled from `vars`; an unknown placeholder stays as written. */
export const fill = fillPlaceholders;

/** The placeholders a text uses, in order of first use. */
export const placeholdersOf = placeholders;

export const isTextKey = (key: string): key is TextKey => Object.hasOwn(catalogue, key);

/** A catalogue: the shipped one, or (in tests) one with a translation left out. */
export type Catalogue = Readonly<Record<string, Entry>>;

/**
 * Every key an operator may override: each entry's own, and `<key>.<variant>` for its variants,
 * with the entry it belongs to.
 */
export const overridableKeys = (of: Catalogue = catalogue): Map<string, { base: string; entry: Entry }> =>
  new Map(
    Object.entries(of).flatMap(([key, e]) => [
      [key, { base: key, entry: e }] as const,
      ...(e.variants ?? []).map((v) => [`${key}.${v}`, { base: key, entry: e }] as const),
    ]),
  );

/** The catalogue as the `texts` settings check overrides against it. */
export const catalogueForOverrides = (of: Catalogue = catalogue): TextCatalogue => {
  const keys = overridableKeys(of);
  return {
    locales,
    entry: (key) => {
      const found = keys.get(key);
      return found && { vars: found.entry.vars, required: found.entry.required ?? [] };
    },
  };
};

export const textCatalogue: TextCatalogue = catalogueForOverrides();

/**
 * A shipped language for a client's language tag (`ru`, `ru-RU`, `en_US`), or undefined when the
 * catalogue does not ship it (the caller falls back to the configured default).
 */
export const localeOf = (tag: string | undefined): Locale | undefined => {
  const primary = tag?.trim().toLowerCase().split(/[-_]/)[0];
  return locales.find((l) => l === primary);
};

/** The shipped text of `key` in `locale` (English where it has none), filled. Overrides: src/texts/texts.ts. */
export const shippedText = (
  key: TextKey,
  locale: Locale,
  vars: Readonly<Record<string, string | number>> = {},
): string => {
  const e: Entry = catalogue[key];
  return fill(e[locale] ?? e.en, vars);
};
