// Manager commands in a topic: the help list (one line per command, from the command table in
// src/adapters/telegram/commands.ts), notes, assignment, the waiting list and saved answers.
import { type Entry, entry } from './entry.ts';

export const commandTexts = {
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
