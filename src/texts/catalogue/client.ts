// The texts a client receives: the automatic welcome and off-hours replies (one variant per channel)
// and the notices that their messages are not forwarded or the conversation was closed.
import { type Entry, entry } from './entry.ts';

/** The channels, as variants of the texts a client receives on each. */
const channels = ['telegram', 'vk', 'external'] as const;

export const clientTexts = {
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
} as const satisfies Record<string, Entry>;
