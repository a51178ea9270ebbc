// Topic titles from TOPIC_TITLE_TEMPLATE (docs/design.md, "A client's message into the topic"):
// placeholders filled, empty ones taken out with their separators, at most 128 characters. Pure.
import { squash } from './translate.ts';

/** Telegram's limit for a forum topic name. */
export const TOPIC_TITLE_LIMIT = 128;

const EMPTY = '\u0000';
const SEPARATORS = '·•|/\\\\,;:~—–\\-';
/** Whitespace, separators and empty placeholders around at least one empty placeholder. */
const EMPTY_RUN = new RegExp(`[\\s${SEPARATORS}${EMPTY}]*${EMPTY}[\\s${SEPARATORS}${EMPTY}]*`, 'g');
/** Brackets holding only empty placeholders: "Ivan ({username})" with no username. */
const EMPTY_BRACKETS = new RegExp(`[(\\[{<][\\s${EMPTY}]*${EMPTY}[\\s${EMPTY}]*[)\\]}>]`, 'g');
const SEPARATOR_CHAR = new RegExp(`[${SEPARATORS}]`);

/** What an empty placeholder and its neighbours leave behind: the first separator, spaced as around it. */
const joinAround = (run: string, atStart: boolean, atEnd: boolean): string => {
  if (atStart || atEnd) return '';
  const rest = run.replaceAll(EMPTY, '');
  const separatorAt = rest.search(SEPARATOR_CHAR);
  if (separatorAt < 0) return rest.length > 0 ? ' ' : '';
  const before = /^\s/.test(rest) ? ' ' : '';
  const after = /\s$/.test(rest) ? ' ' : '';
  return `${before}${rest[separatorAt]}${after}`;
};

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Cuts to at most `limit` UTF-16 code units on a grapheme boundary (never inside a surrogate pair
 * or an emoji sequence), ending with "…" when cut.
 */
export const truncate = (value: string, limit: number): string => {
  if (value.length <= limit) return value;
  let kept = '';
  for (const { segment } of segmenter.segment(value)) {
    if (kept.length + segment.length > limit - 1) break;
    kept += segment;
  }
  return `${kept.trimEnd()}…`;
};

export interface TopicTitleValues {
  readonly name: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly username?: string;
  readonly id: string;
  readonly source: string;
  readonly channel: string;
}

/**
 * The topic title from TOPIC_TITLE_TEMPLATE: `{name}`, `{username}` (with @, or empty), `{id}`,
 * `{source}`, `{channel}`, and tg-support-bot's `{first_name}`, `{last_name}`, `{platform}` (the
 * channel) and `{email}` (never known: empty). Empty placeholders take their dangling separators
 * with them ("{name} · {username} · {id}" → "Ivan · 42"); at most 128 characters; never empty.
 */
export const topicTitle = (template: string, v: TopicTitleValues): string => {
  const clean = (value: string | undefined) => squash(value?.replaceAll(EMPTY, ''));
  const username = clean(v.username).replace(/^@+/, '');
  const values: Record<string, string> = {
    name: clean(v.name),
    username: username ? `@${username}` : '',
    id: clean(v.id),
    source: clean(v.source),
    channel: clean(v.channel),
    first_name: clean(v.firstName),
    last_name: clean(v.lastName),
    platform: clean(v.channel),
    email: '',
  };
  const substituted = template
    .replaceAll(EMPTY, '')
    .replace(
      /\{(name|username|id|source|channel|first_name|last_name|platform|email)\}/g,
      (_, key: string) => values[key] || EMPTY,
    );
  const withoutBrackets = substituted.replace(EMPTY_BRACKETS, EMPTY);
  const cleaned = withoutBrackets
    .replace(EMPTY_RUN, (run: string, offset: number) =>
      joinAround(run, offset === 0, offset + run.length === withoutBrackets.length),
    )
    .replace(/\s+/g, ' ')
    .trim();
  const title = cleaned || values.id || 'client';
  return truncate(title, TOPIC_TITLE_LIMIT);
};
