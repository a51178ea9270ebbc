// What the bot writes into a client's topic about the conversation: automatic-reply notices, the
// contact card and its buttons, command and button-press results, and delivery problems.
import { type Entry, entry } from './entry.ts';

export const topicTexts = {
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
} as const satisfies Record<string, Entry>;
