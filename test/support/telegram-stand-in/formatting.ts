// Text as Telegram stores it: parse_mode (HTML, MarkdownV2, legacy Markdown) turned into entities
// with UTF-16 offsets, automatic entities (commands, mentions, hashtags, URLs, e-mails), and
// leading/trailing whitespace stripped with the entities shifted accordingly.
import type { MessageEntity } from 'grammy/types';
import { badRequest, errors } from './errors.ts';

export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

const byteOffset = (source: string, index: number) => Buffer.byteLength(source.slice(0, index), 'utf8');

const sortEntities = (entities: MessageEntity[]) =>
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);

// ---- HTML -----------------------------------------------------------------------------------------

const HTML_SIMPLE: Record<string, MessageEntity['type']> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
};

const decodeHtmlEntity = (name: string): string | undefined => {
  if (name === 'lt') return '<';
  if (name === 'gt') return '>';
  if (name === 'amp') return '&';
  if (name === 'quot') return '"';
  const m = /^#(x[0-9a-f]+|\d+)$/i.exec(name);
  if (!m?.[1]) return undefined;
  const code = m[1][0] === 'x' || m[1][0] === 'X' ? Number.parseInt(m[1].slice(1), 16) : Number(m[1]);
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
};

const parseHtml = (source: string): FormattedText => {
  let text = '';
  const entities: MessageEntity[] = [];
  const stack: { tag: string; start: number; attrs: Record<string, string> }[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '&') {
      const end = source.indexOf(';', i);
      const decoded = end > i && end - i <= 10 ? decodeHtmlEntity(source.slice(i + 1, end)) : undefined;
      if (decoded !== undefined) {
        text += decoded;
        i = end + 1;
      } else {
        text += '&';
        i++;
      }
      continue;
    }
    if (ch !== '<') {
      text += ch;
      i++;
      continue;
    }
    const at = byteOffset(source, i);
    // The tag name runs to the first space or '>' (as TDLib reads it).
    let j = i + 1;
    while (j < source.length && !/\s/.test(source[j]!) && source[j] !== '>') j++;
    if (j >= source.length) throw errors.cantParse(`Unclosed start tag at byte offset ${at}`);
    const tagName = source.slice(i + 1, j).toLowerCase();
    if (!tagName.startsWith('/') && !(tagName in HTML_SIMPLE || ['a', 'span', 'tg-emoji'].includes(tagName)))
      throw errors.cantParse(`Unsupported start tag "${tagName}" at byte offset ${at}`);
    const close = source.indexOf('>', j);
    if (close < 0)
      throw errors.cantParse(
        `${tagName.startsWith('/') ? 'Unclosed end' : 'Unclosed start'} tag at byte offset ${at}`,
      );
    const inner = source.slice(i + 1, close);
    i = close + 1;
    if (tagName.startsWith('/')) {
      const name = tagName.slice(1);
      const open = stack.pop();
      if (!open) throw errors.cantParse(`Unexpected end tag at byte offset ${at}`);
      if (name !== '' && open.tag !== name)
        throw errors.cantParse(
          `Unmatched end tag at byte offset ${at}, expected "</${open.tag}>", found "</${name}>"`,
        );
      const length = text.length - open.start;
      if (length <= 0) continue;
      const base = { offset: open.start, length };
      if (open.tag === 'a') {
        const href = open.attrs.href ?? '';
        const user = /^tg:\/\/user\?id=(\d+)$/.exec(href);
        if (user)
          entities.push({
            ...base,
            type: 'text_mention',
            user: { id: Number(user[1]), is_bot: false, first_name: '' },
          });
        else if (href) entities.push({ ...base, type: 'text_link', url: href });
      } else if (open.tag === 'span') {
        entities.push({ ...base, type: 'spoiler' });
      } else if (open.tag === 'tg-emoji') {
        entities.push({ ...base, type: 'custom_emoji', custom_emoji_id: open.attrs['emoji-id'] ?? '' });
      } else if (open.tag === 'pre') {
        const language = open.attrs.language;
        entities.push(language ? { ...base, type: 'pre', language } : { ...base, type: 'pre' });
      } else if (open.tag === 'code' && stack.at(-1)?.tag === 'pre') {
        const lang = /^language-(.+)$/.exec(open.attrs.class ?? '')?.[1];
        const pre = stack.at(-1)!;
        if (lang) pre.attrs.language = lang;
      } else if (open.tag === 'blockquote') {
        entities.push({ ...base, type: 'expandable' in open.attrs ? 'expandable_blockquote' : 'blockquote' });
      } else {
        entities.push({ ...base, type: HTML_SIMPLE[open.tag]! } as MessageEntity);
      }
      continue;
    }
    const name = tagName;
    const attrs: Record<string, string> = {};
    for (const a of inner
      .slice(name.length)
      .matchAll(/([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+)))?/g))
      attrs[a[1]!.toLowerCase()] = (a[2] ?? a[3] ?? a[4] ?? '').replace(
        /&(#?\w+);/g,
        (all, e: string) => decodeHtmlEntity(e) ?? all,
      );
    if (name === 'span' && attrs.class !== 'tg-spoiler')
      throw errors.cantParse(`Tag "span" must have class "tg-spoiler" at byte offset ${at}`);
    stack.push({ tag: name, start: text.length, attrs });
  }
  const unclosed = stack.pop();
  if (unclosed) throw errors.cantParse(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  return { text, entities: sortEntities(entities) };
};

// ---- MarkdownV2 and legacy Markdown ---------------------------------------------------------------

const RESERVED_V2 = '_*[]()~`>#+-=|{}.!';
const MD_NAMES: Record<string, string> = {
  '*': 'Bold',
  _: 'Italic',
  __: 'Underline',
  '~': 'Strikethrough',
  '||': 'Spoiler',
  '`': 'Code',
  '```': 'Pre',
  '[': 'TextUrl',
};
const MD_TYPES: Record<string, MessageEntity['type']> = {
  '*': 'bold',
  _: 'italic',
  __: 'underline',
  '~': 'strikethrough',
  '||': 'spoiler',
};

const parseMarkdown = (source: string, v2: boolean): FormattedText => {
  let text = '';
  const entities: MessageEntity[] = [];
  const stack: { marker: string; start: number; at: number }[] = [];
  let i = 0;
  const readUntil = (closer: string, escapable: string): string => {
    let out = '';
    while (i < source.length && !source.startsWith(closer, i)) {
      if (v2 && source[i] === '\\' && i + 1 < source.length && escapable.includes(source[i + 1]!)) {
        out += source[i + 1];
        i += 2;
      } else out += source[i++];
    }
    return out;
  };
  while (i < source.length) {
    const ch = source[i]!;
    const at = byteOffset(source, i);
    if (v2 && ch === '\\' && i + 1 < source.length) {
      text += source[i + 1];
      i += 2;
      continue;
    }
    if (source.startsWith('```', i)) {
      i += 3;
      const body = readUntil('```', '`\\');
      if (!source.startsWith('```', i))
        throw errors.cantParse(`Can't find end of Pre entity at byte offset ${at}`);
      i += 3;
      const nl = body.indexOf('\n');
      const language = nl > 0 && /^[\w+#-]+$/.test(body.slice(0, nl)) ? body.slice(0, nl) : undefined;
      const content = nl >= 0 && (language || nl === 0) ? body.slice(nl + 1) : body;
      if (content.length > 0)
        entities.push(
          language
            ? { type: 'pre', offset: text.length, length: content.length, language }
            : { type: 'pre', offset: text.length, length: content.length },
        );
      text += content;
      continue;
    }
    if (ch === '`') {
      i++;
      const body = readUntil('`', '`\\');
      if (source[i] !== '`') throw errors.cantParse(`Can't find end of Code entity at byte offset ${at}`);
      i++;
      if (body.length > 0) entities.push({ type: 'code', offset: text.length, length: body.length });
      text += body;
      continue;
    }
    if (ch === '[' || (v2 && ch === '!' && source[i + 1] === '[')) {
      const emoji = ch === '!';
      i += emoji ? 2 : 1;
      stack.push({ marker: emoji ? '![' : '[', start: text.length, at });
      continue;
    }
    if (ch === ']' && stack.at(-1)?.marker.endsWith('[')) {
      const open = stack.pop()!;
      i++;
      if (source[i] !== '(') {
        if (v2) throw errors.cantParse(`Can't find end of TextUrl entity at byte offset ${open.at}`);
        continue;
      }
      i++;
      const url = readUntil(')', ')\\');
      if (source[i] !== ')')
        throw errors.cantParse(`Can't find end of TextUrl entity at byte offset ${open.at}`);
      i++;
      const length = text.length - open.start;
      if (length > 0) {
        const user = /^tg:\/\/user\?id=(\d+)$/.exec(url);
        const emojiId = /^tg:\/\/emoji\?id=(\d+)$/.exec(url);
        if (open.marker === '![' && emojiId)
          entities.push({ type: 'custom_emoji', offset: open.start, length, custom_emoji_id: emojiId[1]! });
        else if (user)
          entities.push({
            type: 'text_mention',
            offset: open.start,
            length,
            user: { id: Number(user[1]), is_bot: false, first_name: '' },
          });
        else entities.push({ type: 'text_link', offset: open.start, length, url });
      }
      continue;
    }
    const marker = v2
      ? source.startsWith('__', i)
        ? '__'
        : source.startsWith('||', i)
          ? '||'
          : '*_~'.includes(ch)
            ? ch
            : undefined
      : '*_'.includes(ch)
        ? ch
        : undefined;
    if (marker) {
      i += marker.length;
      const open = stack.findLastIndex((s) => s.marker === marker);
      if (open >= 0 && open === stack.length - 1) {
        const s = stack.pop()!;
        const length = text.length - s.start;
        if (length > 0) entities.push({ type: MD_TYPES[marker]!, offset: s.start, length } as MessageEntity);
      } else if (open >= 0) {
        throw errors.cantParse(
          `Can't find end of ${MD_NAMES[stack.at(-1)!.marker.replace('!', '')]} entity at byte offset ${stack.at(-1)!.at}`,
        );
      } else stack.push({ marker, start: text.length, at });
      continue;
    }
    if (v2 && ch === '>' && (i === 0 || source[i - 1] === '\n')) {
      const end = source.indexOf('\n', i);
      const lineStart = text.length;
      i++;
      const line = end < 0 ? source.slice(i) : source.slice(i, end);
      const inner = parseMarkdown(line, true);
      for (const e of inner.entities) entities.push({ ...e, offset: e.offset + lineStart });
      text += inner.text;
      entities.push({ type: 'blockquote', offset: lineStart, length: inner.text.length });
      i = end < 0 ? source.length : end;
      continue;
    }
    if (v2 && RESERVED_V2.includes(ch))
      throw errors.cantParse(`Character '${ch}' is reserved and must be escaped with the preceding '\\'`);
    text += ch;
    i++;
  }
  const unclosed = stack.pop();
  if (unclosed)
    throw errors.cantParse(
      `Can't find end of ${MD_NAMES[unclosed.marker.replace('!', '')] ?? 'TextUrl'} entity at byte offset ${unclosed.at}`,
    );
  // merge consecutive blockquote lines
  const merged: MessageEntity[] = [];
  for (const e of sortEntities(entities)) {
    const last = merged.findLast((m) => m.type === 'blockquote');
    if (e.type === 'blockquote' && last && last.offset + last.length + 1 === e.offset)
      last.length += e.length + 1;
    else merged.push(e);
  }
  return { text, entities: sortEntities(merged) };
};

// ---- automatic entities -----------------------------------------------------------------------------

const AUTO: { type: MessageEntity['type']; re: RegExp }[] = [
  { type: 'url', re: /(?<![\w@/.])https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'}]/gi },
  { type: 'email', re: /(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?![\w@])/gi },
  { type: 'bot_command', re: /(?<![\w/@])\/[a-zA-Z0-9_]{1,32}(?:@[a-zA-Z0-9_]{3,32})?(?![\w/])/g },
  { type: 'mention', re: /(?<![\w@/.])@[a-zA-Z0-9_]{5,32}(?!\w)/g },
  { type: 'hashtag', re: /(?<![\w#])#(?!\d+(?!\w))\w+/g },
  { type: 'cashtag', re: /(?<![\w$])\$[A-Z]{1,8}(?![\w])/g },
];

export const autoEntities = (text: string, existing: readonly MessageEntity[]): MessageEntity[] => {
  const taken: MessageEntity[] = [...existing];
  const found: MessageEntity[] = [];
  const overlaps = (o: number, l: number) =>
    taken.some(
      (e) =>
        (e.type === 'code' ||
          e.type === 'pre' ||
          e.type === 'text_link' ||
          AUTO.some((a) => a.type === e.type)) &&
        o < e.offset + e.length &&
        e.offset < o + l,
    );
  for (const { type, re } of AUTO) {
    for (const m of text.matchAll(re)) {
      const offset = m.index ?? 0;
      const length = m[0].length;
      if (overlaps(offset, length)) continue;
      const e = { type, offset, length } as MessageEntity;
      found.push(e);
      taken.push(e);
    }
  }
  return found;
};

/** Strip surrounding whitespace as Telegram does, moving and clipping entities. */
export const trimFormatted = ({ text, entities }: FormattedText): FormattedText => {
  const lead = text.length - text.trimStart().length;
  const trimmed = text.trim();
  const out: MessageEntity[] = [];
  for (const e of entities) {
    const start = Math.max(0, e.offset - lead);
    const end = Math.min(trimmed.length, e.offset + e.length - lead);
    if (end > start) out.push({ ...e, offset: start, length: end - start });
  }
  return { text: trimmed, entities: out };
};

const validEntities = (text: string, entities: unknown): MessageEntity[] => {
  if (!Array.isArray(entities)) return [];
  return entities.filter(
    (e): e is MessageEntity =>
      !!e &&
      typeof e === 'object' &&
      typeof (e as MessageEntity).type === 'string' &&
      Number.isInteger((e as MessageEntity).offset) &&
      Number.isInteger((e as MessageEntity).length) &&
      (e as MessageEntity).length > 0 &&
      (e as MessageEntity).offset >= 0 &&
      (e as MessageEntity).offset + (e as MessageEntity).length <= text.length,
  );
};

/**
 * The stored form of a text or caption: explicit entities win over parse_mode (as in the Bot API),
 * then whitespace is trimmed and automatic entities are added.
 */
export const formatText = (raw: string, parseMode: string | undefined, entities: unknown): FormattedText => {
  let parsed: FormattedText;
  const explicit = validEntities(raw, entities);
  if (explicit.length > 0 || Array.isArray(entities)) parsed = { text: raw, entities: explicit };
  else if (/^html$/i.test(parseMode ?? '')) parsed = parseHtml(raw);
  else if (/^markdownv2$/i.test(parseMode ?? '')) parsed = parseMarkdown(raw, true);
  else if (/^markdown$/i.test(parseMode ?? '')) parsed = parseMarkdown(raw, false);
  else if (parseMode) throw badRequest('unsupported parse_mode');
  else parsed = { text: raw, entities: [] };
  const trimmed = trimFormatted(parsed);
  return {
    text: trimmed.text,
    entities: sortEntities([...trimmed.entities, ...autoEntities(trimmed.text, trimmed.entities)]),
  };
};
