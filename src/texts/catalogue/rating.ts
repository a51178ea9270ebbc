// Satisfaction (CSAT): what the client is asked and told about rating a closed conversation, the
// labels of its buttons, and the line the managers see in the topic (docs/design.md,
// "Satisfaction (CSAT)").
import { type Entry, entry } from './entry.ts';

export const ratingTexts = {
  'client.rating.prompt': entry({
    vars: [],
    en: 'How would you rate our help? Tap a number: 1 is poor, 5 is excellent.',
    ru: 'Оцените, пожалуйста, нашу помощь: нажмите цифру, 1 — плохо, 5 — отлично.',
  }),
  'client.rating.thanks': entry({
    vars: ['rating'],
    en: 'Thank you! Your rating: {rating}/5.',
    ru: 'Спасибо! Ваша оценка: {rating}/5.',
  }),
  'client.rating.comment_invite': entry({
    vars: [],
    en: 'If you like, write a comment in your next message.',
    ru: 'Если хотите, напишите комментарий следующим сообщением.',
  }),
  'client.rating.comment_thanks': entry({
    vars: [],
    en: 'Thank you for your comment!',
    ru: 'Спасибо за комментарий!',
  }),
  'client.rating.closed': entry({
    vars: [],
    en: 'This rating is no longer open.',
    ru: 'Эта оценка уже недоступна.',
  }),
  'client.rating.already': entry({
    vars: ['rating'],
    en: 'You have rated this conversation already: {rating}/5.',
    ru: 'Вы уже оценили этот диалог: {rating}/5.',
  }),
  'topic.rating': entry({
    vars: ['rating'],
    required: ['rating'],
    en: '⭐ {rating}/5 — the client rated the conversation',
    ru: '⭐ {rating}/5 — оценка клиента',
  }),
  'topic.rating_comment': entry({
    vars: ['rating', 'comment'],
    required: ['comment'],
    en: '⭐ {rating}/5 — {comment}',
    ru: '⭐ {rating}/5 — {comment}',
  }),
} as const satisfies Record<string, Entry>;
