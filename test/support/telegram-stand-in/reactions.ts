// setMessageReaction's parameters as the Bot API reads them: a bot sets at most one reaction, an
// emoji from the list the Bot API documents for ReactionTypeEmoji; an empty or absent list takes the
// bot's reaction off. (The message checks are the handler's, in methods.ts.)
import type { ReactionType } from 'grammy/types';
import { badRequest } from './errors.ts';

/** The emoji ReactionTypeEmoji allows (the Bot API's list). */
export const REACTION_EMOJI: ReadonlySet<string> = new Set(
  '👍 👎 ❤ 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤‍🔥 🌚 🌭 💯 🤣 ⚡ 🍌 🏆 💔 🤨 😐 🍓 🍾 💋 🖕 😈 😴 😭 🤓 👻 👨‍💻 👀 🎃 🙈 😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿 🆒 💘 🙉 🦄 😘 💊 🙊 😎 👾 🤷‍♂ 🤷 🤷‍♀ 😡'.split(
    ' ',
  ),
);

/** The `reaction` parameter, checked as Telegram parses it (refusals in Telegram's words). */
export const reactionList = (raw: unknown): ReactionType[] => {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw badRequest('expected an Array of ReactionType');
  const list = raw.map((r: unknown): ReactionType => {
    if (typeof r !== 'object' || r === null) throw badRequest("can't parse ReactionType: expected an Object");
    const { type, emoji } = r as { type?: unknown; emoji?: unknown };
    if (type === undefined) throw badRequest(`can't parse ReactionType: Can't find field "type"`);
    if (type === 'custom_emoji') throw badRequest('REACTION_INVALID');
    if (type !== 'emoji') throw badRequest("can't parse ReactionType: invalid reaction type specified");
    if (emoji === undefined) throw badRequest(`can't parse ReactionType: Can't find field "emoji"`);
    if (typeof emoji !== 'string' || emoji === '') throw badRequest('invalid reaction type specified');
    if (!REACTION_EMOJI.has(emoji)) throw badRequest('REACTION_INVALID');
    return { type: 'emoji', emoji } as ReactionType;
  });
  if (list.length > 1) throw badRequest('REACTIONS_TOO_MANY');
  return list;
};
