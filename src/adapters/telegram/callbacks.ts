// Presses of inline buttons (callback_query), dispatched by the prefix of their callback_data
// (docs/design.md, "Callbacks"): in the support group `card:close:<conversation>` goes to the contact
// card's handler, another prefix to whoever registered it, and who may press is checked once for every
// prefix: members of the support group only. A client's presses in their private chat (the rating's
// buttons) have a registry of their own: the presser is the client, whose chat names the conversation.
import type { Api } from 'grammy';
import type { CallbackQuery, ChatMember } from 'grammy/types';
import type { Actor } from '../../domain/events.ts';
import { refusal } from './errors.ts';

/** What a press is answered with: the line Telegram shows the manager, and what the update came to. */
export interface CallbackAnswer {
  readonly text?: string;
  /** Shown as an alert the manager must dismiss rather than a passing notice. */
  readonly showAlert?: boolean;
  readonly outcome: 'recorded' | 'duplicate' | 'ignored';
}

/** A press by a member of the support group, for the handler of its prefix. */
export interface CallbackPress {
  readonly query: CallbackQuery;
  /** The callback_data after `<prefix>:` ('' when there is nothing after the prefix). */
  readonly args: string;
  /** The manager who pressed. */
  readonly actor: Actor;
  /** Derived from the update, so a re-delivered press records nothing twice. */
  readonly commandId: string;
  readonly at: Date;
  /** The conversation of the topic the pressed message stands in (read model); undefined outside one. */
  conversationOfTopic(): Promise<string | undefined>;
}

export type CallbackHandler = (press: CallbackPress) => Promise<CallbackAnswer>;

/** A client's press in their private chat with the bot, for the handler of its prefix. */
export interface ClientPress {
  readonly query: CallbackQuery;
  readonly args: string;
  /** The client who pressed. */
  readonly actor: Actor;
  /** The client's conversation (their private chat's). */
  readonly conversationId: string;
  readonly commandId: string;
  readonly at: Date;
}

export type ClientCallbackHandler = (press: ClientPress) => Promise<CallbackAnswer>;

/** Where handlers of callback_data prefixes are registered (the contact card's `card`, …). */
export interface CallbackRegistry<H = CallbackHandler> {
  /**
   * Presses whose callback_data is `<prefix>` or starts with `<prefix>:` go to `handler`. A prefix is
   * letters, digits, `_` and `-`; registering one twice is a mistake and throws.
   */
  register(prefix: string, handler: H): void;
}

export interface CallbackRouter<H = CallbackHandler> extends CallbackRegistry<H> {
  /** The handler for `data` and what follows its prefix; undefined when no prefix matches. */
  find(data: string): { readonly handler: H; readonly args: string } | undefined;
}

export const createCallbackRouter = <H = CallbackHandler>(): CallbackRouter<H> => {
  const handlers = new Map<string, H>();
  return {
    register(prefix, handler) {
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(prefix)) throw new RangeError(`not a callback prefix: "${prefix}"`);
      if (handlers.has(prefix)) throw new Error(`callback prefix "${prefix}" is registered already`);
      handlers.set(prefix, handler);
    },
    find(data) {
      const colon = data.indexOf(':');
      const prefix = colon < 0 ? data : data.slice(0, colon);
      const handler = handlers.get(prefix);
      return handler ? { handler, args: colon < 0 ? '' : data.slice(colon + 1) } : undefined;
    },
  };
};

/** Whether a chat member counts as one of the support group's people. */
export const isMemberStatus = (member: ChatMember): boolean =>
  member.status === 'creator' ||
  member.status === 'administrator' ||
  member.status === 'member' ||
  (member.status === 'restricted' && member.is_member);

export interface MembershipOptions {
  readonly api: Api;
  readonly supportChatId: string;
  /** How long an answer is trusted. Default 60 s: someone removed from the group can press for that long. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/**
 * Asks Telegram whether a user is in the support group (getChatMember), remembering the answer
 * briefly: a burst of presses costs one call.
 */
export const createMembership = (options: MembershipOptions) => {
  const { api, supportChatId, ttlMs = 60_000, now = Date.now } = options;
  const known = new Map<number, { member: boolean; until: number }>();
  return async (userId: number): Promise<boolean> => {
    const t = now();
    const cached = known.get(userId);
    if (cached && cached.until > t) return cached.member;
    let member: boolean;
    try {
      member = isMemberStatus(await api.getChatMember(supportChatId, userId));
    } catch (error) {
      // "user not found": Telegram knows no such member. Anything else (the network) is thrown.
      if (!refusal(error)) throw error;
      member = false;
    }
    known.delete(userId);
    known.set(userId, { member, until: t + ttlMs });
    if (known.size > 1000) known.delete(known.keys().next().value!);
    return member;
  };
};
