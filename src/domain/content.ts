// Message content comparison: an edit that changes nothing is not an edit (docs/design.md, "Edits"),
// and Telegram re-sends `edited_message` for reasons that leave the content untouched (reactions,
// link previews).
import type { Attachment, MessageContent } from './events.ts';

/** Structural equality of JSON-like values; plain data only, which is all events carry. */
export const sameValue = (a: unknown, b: unknown): boolean => {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  // Keys holding `undefined` count as absent, so an optional field set to undefined equals a missing one.
  const keysA = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const keysB = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return keysA.length === keysB.length && keysA.every((k) => sameValue(ra[k], rb[k]));
};

/**
 * The same file seen in two updates. Telegram may hand out a different file_id for the same file,
 * so the stable file_unique_id wins when both sides have it; name/MIME/size describe the file and
 * cannot change without the file changing.
 */
export const sameAttachment = (a: Attachment, b: Attachment): boolean => {
  if (a.kind !== b.kind) return false;
  const sameFile =
    a.fileUniqueId !== undefined && b.fileUniqueId !== undefined
      ? a.fileUniqueId === b.fileUniqueId
      : a.fileRef === b.fileRef;
  return sameFile && sameValue(a.details ?? {}, b.details ?? {});
};

export const sameContent = (a: MessageContent, b: MessageContent): boolean =>
  a.text === b.text &&
  sameValue(a.entities ?? [], b.entities ?? []) &&
  sameValue(a.buttons ?? [], b.buttons ?? []) &&
  a.attachments.length === b.attachments.length &&
  a.attachments.every((att, i) => sameAttachment(att, b.attachments[i]!));

/**
 * Content as events carry it: no `entities: undefined` key (nor `buttons`), so stored and decoded
 * events compare equal; no buttons key when there are none, so answers without buttons read as before.
 */
export const contentFields = (content: MessageContent): MessageContent => ({
  text: content.text,
  ...(content.entities === undefined ? {} : { entities: content.entities }),
  attachments: content.attachments,
  ...(content.buttons?.length ? { buttons: content.buttons } : {}),
});

/** Drops keys whose value is undefined: events go through JSON, which would drop them anyway. */
export const withoutUndefined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
