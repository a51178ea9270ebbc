// What a caller names when asking for a history: a conversation (by id or by its client) and a
// moment (an ISO 8601 time), parsed for the CLI and the admin API (docs/design.md, "The audit history").
import type { Channel } from '../domain/events.ts';

/** UUIDv5 of `channel:source:clientId` (src/adapters/ids.ts), passed in: this layer cannot import adapters. */
export type ConversationIdOf = (channel: Channel, source: string, clientId: string) => string;

// ---------------------------------------------------------------------------------------------
// References

export interface ConversationRef {
  readonly conversationId: string;
  /** Known when the reference named the client rather than the id. */
  readonly channel?: Channel;
  readonly source?: string;
  readonly clientId?: string;
}

export class ConversationRefError extends Error {
  override readonly name = 'ConversationRefError';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const refForms =
  'a conversation id (UUID), telegram:<clientId>, vk:<clientId> or external:<source>:<clientId>';

/**
 * `3f2a…` (a UUID) is the conversation id itself. `telegram:<clientId>` and `vk:<clientId>` name a
 * client of that channel, whose source is the channel's name (topicdesk's convention);
 * `external:<source>:<clientId>` names a client of an external source. A client id may itself
 * contain colons (everything after the prefix is the client id).
 */
export const resolveConversationRef = (ref: string, conversationIdOf: ConversationIdOf): ConversationRef => {
  const trimmed = ref.trim();
  if (UUID.test(trimmed)) return { conversationId: trimmed.toLowerCase() };
  const colon = trimmed.indexOf(':');
  const prefix = colon < 0 ? '' : trimmed.slice(0, colon);
  const rest = colon < 0 ? '' : trimmed.slice(colon + 1);
  const named = (channel: Channel, source: string, clientId: string): ConversationRef => {
    if (source === '' || clientId === '') {
      throw new ConversationRefError(`not a conversation reference: "${ref}" (expected ${refForms})`);
    }
    return { conversationId: conversationIdOf(channel, source, clientId), channel, source, clientId };
  };
  switch (prefix) {
    case 'telegram':
    case 'vk':
      return named(prefix, prefix, rest);
    case 'external': {
      const sep = rest.indexOf(':');
      return sep < 0
        ? named('external', rest, '')
        : named('external', rest.slice(0, sep), rest.slice(sep + 1));
    }
    default:
      throw new ConversationRefError(`not a conversation reference: "${ref}" (expected ${refForms})`);
  }
};

// ---------------------------------------------------------------------------------------------
// Times

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * An ISO 8601 date or date-time: `2025-03-01T12:30:00Z`, `2025-03-01T15:30:00.250+03:00`,
 * `2025-03-01 12:30`, `2025-03-01`. Without an offset the time is local (as ISO 8601 says); a date
 * alone is its local midnight. Fractions beyond milliseconds are cut. null when not such a time or
 * not a real date (2025-02-30).
 */
export const parseIsoTime = (text: string): Date | null => {
  const m = ISO_8601.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((v) => Number(v ?? 0));
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const zone = m[8];
  if (month! < 1 || month! > 12 || day! < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (day! > daysInMonth) return null;
  if (zone === undefined) {
    const local = new Date(year!, month! - 1, day!, hour, minute, second, ms);
    // Year 0-99 would be taken as 19xx by the Date constructor.
    local.setFullYear(year!);
    return Number.isNaN(local.getTime()) ? null : local;
  }
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const hours = Number(z[2]);
    const minutes = Number(z[3] ?? 0);
    if (hours > 23 || minutes > 59) return null;
    offsetMinutes = (z[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(year!, month! - 1, day!);
  utc.setUTCHours(hour, minute, second, ms);
  const result = new Date(utc.getTime() - offsetMinutes * 60_000);
  return Number.isNaN(result.getTime()) ? null : result;
};
