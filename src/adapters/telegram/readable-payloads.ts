// A readable line for what a channel cannot copy (a location, a contact, a poll, a file VK cannot
// take): shown in the topic or sent as text instead. Pure.
import type { Attachment, MessageContent } from '../../domain/events.ts';
import { squash } from './translate.ts';

const str = (value: unknown): string => (typeof value === 'string' ? squash(value) : '');
const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

const mapsLink = (latitude: number, longitude: number): string =>
  `https://maps.google.com/?q=${latitude},${longitude}`;

const describeAttachment = (a: Attachment): string | undefined => {
  const d = a.details ?? {};
  switch (a.kind) {
    case 'location': {
      const lat = num(d.latitude);
      const lon = num(d.longitude);
      if (lat === undefined || lon === undefined) return '📍 Location';
      return `📍 ${d.live_period ? 'Live location' : 'Location'}: ${mapsLink(lat, lon)}`;
    }
    case 'venue': {
      const lat = num(d.latitude);
      const lon = num(d.longitude);
      const place = [str(d.title), str(d.address)].filter(Boolean).join(', ');
      const link = lat !== undefined && lon !== undefined ? mapsLink(lat, lon) : '';
      return `📍 ${[place || 'Venue', link].filter(Boolean).join(' — ')}`;
    }
    case 'contact': {
      const name = [str(d.first_name), str(d.last_name)].filter(Boolean).join(' ');
      return `👤 Contact: ${[name, str(d.phone_number)].filter(Boolean).join(', ') || '—'}`;
    }
    case 'poll': {
      const options = Array.isArray(d.options) ? d.options.map(str).filter(Boolean) : [];
      const label = d.type === 'quiz' ? 'Quiz' : 'Poll';
      const question = str(d.question);
      return `📊 ${label}: ${question}${options.length > 0 ? ` — ${options.join(' / ')}` : ''}`;
    }
    case 'dice': {
      const value = num(d.value);
      return `${str(d.emoji) || '🎲'} Dice${value === undefined ? '' : `: ${value}`}`;
    }
    default:
      return undefined;
  }
};

/**
 * One readable line for the non-file payloads (location as a maps link, venue, contact, poll with
 * its options, dice), for channels that cannot copy them; '' when there are none.
 */
export const describeForTopic = (content: MessageContent): string =>
  content.attachments
    .map(describeAttachment)
    .filter((line): line is string => Boolean(line))
    .join(' · ');
