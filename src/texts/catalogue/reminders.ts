// Reminders in the topics of clients who wait too long and the daily digest in General
// (docs/design.md, "Reminders and the daily digest"): for the managers, in LOCALE.
import { type Entry, entry } from './entry.ts';

export const reminderTexts = {
  'topic.reminder.unassigned': entry({
    vars: ['waited', 'since', 'number', 'max'],
    required: ['waited'],
    en: '⏰ Reminder {number} of {max}: the client has been waiting for an answer for {waited} (since {since}), and nobody has the conversation (/take).',
    ru: '⏰ Напоминание {number} из {max}: клиент ждёт ответа уже {waited} (с {since}), ответственного нет (/take).',
  }),
  'topic.reminder.assigned': entry({
    vars: ['assignee', 'waited', 'since', 'number', 'max'],
    required: ['assignee', 'waited'],
    en: '⏰ {assignee}, reminder {number} of {max}: the client has been waiting for an answer for {waited} (since {since}).',
    ru: '⏰ {assignee}, напоминание {number} из {max}: клиент ждёт ответа уже {waited} (с {since}).',
  }),
  'topic.duration.minutes': entry({
    vars: ['minutes'],
    required: ['minutes'],
    en: '{minutes} min',
    ru: '{minutes} мин',
  }),
  'topic.duration.hours': entry({
    vars: ['hours', 'minutes'],
    required: ['hours', 'minutes'],
    en: '{hours} h {minutes} min',
    ru: '{hours} ч {minutes} мин',
  }),
  'topic.digest': entry({
    vars: ['date', 'conversations', 'first_response', 'waiting', 'unassigned'],
    en: '📊 Yesterday, {date}: {conversations} conversations, median first response {first_response}. Waiting for an answer now: {waiting} ({unassigned} unassigned).',
    ru: '📊 Вчера, {date}: разговоров — {conversations}, медиана первого ответа — {first_response}. Ждут ответа сейчас: {waiting} (без ответственного: {unassigned}).',
  }),
} as const satisfies Record<string, Entry>;
