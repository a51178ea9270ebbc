// What operators configure while the service runs (texts, saved answers, working hours) lives in the
// log like everything else: one stream per kind, `settings-<kind>`, so every change is audited with
// its actor and time (docs/design.md, "Settings streams").
import type { RecordedEvent } from './event-log.ts';

/** The kinds of settings, one stream each. */
export type SettingsKind = 'texts' | 'templates' | 'hours';
export const settingsKinds: readonly SettingsKind[] = ['texts', 'templates', 'hours'];

export const isSettingsKind = (value: string): value is SettingsKind =>
  (settingsKinds as readonly string[]).includes(value);

/** The stream that holds one kind of settings. */
export const settingsStream = (kind: SettingsKind): string => `settings-${kind}`;

/** A settings event: plain data with a `type`, like a conversation's. */
export interface SettingsEvent {
  readonly type: string;
  readonly data: unknown;
}

/**
 * One kind of settings: its state, the pure fold and decision, and a line per event for the audit
 * history. Refusals are SettingsErrors naming the field the operator got wrong.
 */
export interface SettingsDefinition<C, E extends SettingsEvent, S> {
  readonly kind: SettingsKind;
  readonly initial: S;
  readonly evolve: (state: S, event: E) => S;
  readonly decide: (command: C, state: S) => readonly E[];
  /** One line for a person reading the audit history. */
  readonly summarize: (event: E) => string;
}

/**
 * A refused settings change. `field` names what was wrong in the operator's words (`locale`, `key`,
 * `text`, `hours.weekly.mon[0]`): the API prefixes it with `body.`, the CLI prints it.
 */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  constructor(
    readonly code: string,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Turns a recorded event into the kind's event; undefined for a type this version does not know
 * (written by a newer one: skipped, as a conversation's fold skips it). A known type that does not
 * decode throws. The composition passes the zod codec (src/adapters/settings/codec.ts).
 */
export type DecodeSettingsEvent<E> = (event: RecordedEvent) => E | undefined;
