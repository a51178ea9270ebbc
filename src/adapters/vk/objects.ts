// VK objects as topicdesk reads them (VK sends more fields), readers for their loosely typed
// fields, and the client's profile made from users.get (docs/design.md, "What each channel carries").
import { withoutUndefined } from '../../domain/content.ts';
import type { ClientProfile } from '../../domain/events.ts';
import { vkProfileLink } from './refs.ts';

export interface VkPhotoSize {
  readonly type?: string;
  readonly url: string;
  readonly width?: number;
  readonly height?: number;
}

export interface VkMessage {
  readonly id: number;
  readonly conversation_message_id?: number;
  readonly out?: number;
  readonly peer_id: number;
  readonly from_id: number;
  readonly text?: string;
  readonly date: number;
  readonly update_time?: number;
  readonly attachments?: ReadonlyArray<VkAttachment>;
  readonly geo?: {
    readonly coordinates?: { readonly latitude: number; readonly longitude: number };
    readonly place?: { readonly title?: string; readonly city?: string; readonly country?: string | number };
  };
  readonly reply_message?: VkMessage;
  readonly fwd_messages?: ReadonlyArray<VkMessage>;
}

/** `{ type, [type]: object }`, as VK sends every attachment. */
export interface VkAttachment {
  readonly type: string;
  readonly [key: string]: unknown;
}

export interface VkUser {
  readonly id: number;
  readonly first_name?: string;
  readonly last_name?: string;
  readonly screen_name?: string;
  readonly deactivated?: string;
}

export const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() ? v.trim() : undefined;
export const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
export const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};

// ---------------------------------------------------------------------------------------------------
// Profiles

/** client_info.lang_id → language code (VK's own numbering). */
const LANGUAGES: Record<number, string> = {
  0: 'ru',
  1: 'uk',
  2: 'be',
  3: 'en',
  4: 'es',
  5: 'fi',
  6: 'de',
  7: 'it',
};

export const languageOf = (langId: number | undefined): string | undefined =>
  langId === undefined ? undefined : LANGUAGES[langId];

/** The client's profile from users.get; a user VK could not describe still gets the profile link. */
export const profileOf = (userId: number, user: VkUser | undefined, langId?: number): ClientProfile => {
  const screenName = user?.screen_name && !/^id\d+$/.test(user.screen_name) ? user.screen_name : undefined;
  return withoutUndefined({
    firstName: user?.first_name || undefined,
    lastName: user?.last_name || undefined,
    username: screenName,
    languageCode: languageOf(langId),
    link: vkProfileLink(userId),
  });
};
