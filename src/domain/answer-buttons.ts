// Link buttons in a manager's answer (docs/design.md, "Buttons in answers"): `[[label|url]]` in the
// text becomes a button under the message and is taken out of the text the client reads. Pure: the
// same text always gives the same buttons, so decide() can apply it and a replay agrees.
//
// The layout is the tightest of the channels': VK's inline keyboard holds six rows and a link button
// is wide (two to a row), with labels of at most 40 characters; Telegram takes more, a source's
// webhook whatever it is given. Markup that does not fit, or is not well formed, stays as text.
import type { MessageButton, MessageContent } from './events.ts';

/** A label's most characters (VK's limit). */
export const BUTTON_LABEL_LIMIT = 40;
/** Buttons in one row: link buttons are wide in VK's grid, two fill a row. */
export const BUTTONS_PER_ROW = 2;
/** Rows under one message (VK's limit for an inline keyboard). */
export const BUTTON_ROW_LIMIT = 6;
/** A button's URL, at most. */
export const BUTTON_URL_LIMIT = 2048;

const MARKUP = /\[\[([^[\]\n]*)\]\]/g;

/** An http(s) address with a host, or a tg:// link; anything else is not a button. */
export const isButtonUrl = (value: string): boolean => {
  if (value.length === 0 || value.length > BUTTON_URL_LIMIT || /\s/.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return url.hostname !== '';
  return url.protocol === 'tg:' && value.length > 'tg://'.length;
};

/** `label|url` (split at the last `|`, so a label may hold one); undefined when it is no button. */
const buttonOf = (inner: string): MessageButton | undefined => {
  const bar = inner.lastIndexOf('|');
  if (bar < 0) return undefined;
  const text = inner.slice(0, bar).replace(/\s+/g, ' ').trim();
  const url = inner.slice(bar + 1).trim();
  const length = [...text].length;
  if (length === 0 || length > BUTTON_LABEL_LIMIT || !isButtonUrl(url)) return undefined;
  return { text, url };
};

type Entity = Readonly<Record<string, unknown>>;

/** Spans of code and preformatted text: markup written there is shown, not turned into a button. */
const literalSpans = (entities: readonly Entity[]): [number, number][] =>
  entities
    .filter((e) => e.type === 'code' || e.type === 'pre')
    .map((e) => [Number(e.offset), Number(e.offset) + Number(e.length)]);

interface Cut {
  readonly from: number;
  readonly to: number;
}

/** Where `at` lands once the cuts (sorted, not overlapping) are taken out. */
const shifted = (at: number, cuts: readonly Cut[]): number => {
  let removed = 0;
  for (const c of cuts) {
    if (c.from >= at) break;
    removed += Math.min(at, c.to) - c.from;
  }
  return at - removed;
};

export interface ParsedAnswer {
  readonly text: string;
  readonly entities?: ReadonlyArray<Entity>;
  readonly buttons: ReadonlyArray<ReadonlyArray<MessageButton>>;
}

/**
 * Takes `[[label|url]]` markup out of an answer's text: each line's buttons form a row (two at most,
 * more wrap into the next), a line left empty goes with its markup, and entities are moved to the
 * text that is left. Markup that is malformed (no `|`, an empty or too long label, an address that
 * is not http(s):// or tg://), inside code, or past the sixth row stays as written.
 */
export const parseAnswerButtons = (text: string, entities: readonly Entity[] = []): ParsedAnswer => {
  const literal = literalSpans(entities);
  const rows: MessageButton[][] = [];
  const cuts: Cut[] = [];
  let lineStart = 0;
  for (const line of text.split('\n')) {
    const lineEnd = lineStart + line.length;
    const found: { from: number; to: number; button: MessageButton }[] = [];
    for (const m of line.matchAll(MARKUP)) {
      const from = lineStart + m.index;
      const to = from + m[0].length;
      if (literal.some(([a, b]) => from < b && to > a)) continue;
      const button = buttonOf(m[1]!);
      if (!button) continue;
      // A new row for each line's first button and every further pair; none past the last row.
      const opensRow = found.length % BUTTONS_PER_ROW === 0;
      if (opensRow && rows.length >= BUTTON_ROW_LIMIT) break;
      if (opensRow) rows.push([]);
      rows.at(-1)!.push(button);
      found.push({ from, to, button });
    }
    if (found.length > 0) {
      const rest = found.reduce(
        (acc, f, i) => acc + text.slice(i === 0 ? lineStart : found[i - 1]!.to, f.from),
        '',
      );
      const after = text.slice(found.at(-1)!.to, lineEnd);
      if ((rest + after).trim() === '') {
        // Nothing but buttons on the line: the line goes, with one of its line breaks.
        const withBreak = lineEnd < text.length ? { from: lineStart, to: lineEnd + 1 } : undefined;
        cuts.push(withBreak ?? { from: Math.max(0, lineStart - 1), to: lineEnd });
      } else {
        for (const f of found) {
          // The markup and the spaces before it ("see [[…]] here" → "see here"); at the start of
          // the line, the spaces after it.
          let from = f.from;
          while (from > lineStart && (text[from - 1] === ' ' || text[from - 1] === '\t')) from--;
          let to = f.to;
          if (from === lineStart) while (to < lineEnd && (text[to] === ' ' || text[to] === '\t')) to++;
          cuts.push({ from, to });
        }
      }
    }
    lineStart = lineEnd + 1;
  }
  if (rows.length === 0) return { text, ...(entities.length ? { entities } : {}), buttons: [] };

  cuts.sort((a, b) => a.from - b.from);
  const merged: Cut[] = [];
  for (const c of cuts) {
    const last = merged.at(-1);
    if (last && c.from <= last.to)
      merged[merged.length - 1] = { from: last.from, to: Math.max(last.to, c.to) };
    else merged.push(c);
  }
  let kept = '';
  let at = 0;
  for (const c of merged) {
    kept += text.slice(at, c.from);
    at = c.to;
  }
  kept += text.slice(at);
  const cleaned = kept.replace(/\s+$/, '');
  const moved = entities.flatMap((e) => {
    const start = Math.min(shifted(Number(e.offset), merged), cleaned.length);
    const end = Math.min(shifted(Number(e.offset) + Number(e.length), merged), cleaned.length);
    return end > start ? [{ ...e, offset: start, length: end - start }] : [];
  });
  return { text: cleaned, ...(moved.length ? { entities: moved } : {}), buttons: rows };
};

/**
 * An answer's content with its button markup taken out: what the client receives. Content that
 * already names its buttons is left as it is. An answer that would be left with no text and no file
 * says its buttons' labels, since a message cannot be only buttons.
 */
export const answerContent = (content: MessageContent): MessageContent => {
  if (content.buttons !== undefined) return content;
  const parsed = parseAnswerButtons(content.text, content.entities ?? []);
  if (parsed.buttons.length === 0) return content;
  const empty = parsed.text === '' && content.attachments.length === 0;
  const text = empty
    ? parsed.buttons
        .flat()
        .map((b) => b.text)
        .join(' · ')
    : parsed.text;
  return {
    text,
    ...(parsed.entities && !empty ? { entities: parsed.entities } : {}),
    attachments: content.attachments,
    buttons: parsed.buttons,
  };
};
