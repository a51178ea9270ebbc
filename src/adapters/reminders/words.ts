// How long, in the managers' language: "35 min", "2 h 05 min" (the units are catalogue texts).
import type { Texts } from '../../texts/texts.ts';

/** `seconds` to the minute, in LOCALE's words; "—" for none. */
export const durationText = async (texts: Texts, seconds: number | null): Promise<string> => {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const minutes = Math.max(0, Math.round(seconds / 60));
  if (minutes < 60) return texts.topic('topic.duration.minutes', { minutes });
  return texts.topic('topic.duration.hours', {
    hours: Math.floor(minutes / 60),
    minutes: String(minutes % 60).padStart(2, '0'),
  });
};
