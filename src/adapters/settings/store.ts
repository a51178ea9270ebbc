// One kind of settings read and changed through the event log (docs/design.md, "Settings streams"):
// the stream folded with the kind's evolve, held, and brought up to date by reading only the events
// after the revision held once it is older than the freshness window — so every instance sees an
// operator's change within seconds without a read per message. Changes are decided on the latest
// state and appended with the revision they were decided on (another writer in between: decided again).
import { randomUUID } from 'node:crypto';
import { WrongExpectedRevisionError } from '../../domain/errors.ts';
import type { EventLog, NewEvent } from '../../domain/event-log.ts';
import type { Actor } from '../../domain/events.ts';
import {
  type DecodeSettingsEvent,
  type SettingsDefinition,
  type SettingsEvent,
  settingsStream,
} from '../../domain/settings.ts';
import { commandEventId } from '../ids.ts';

/** A kind's settings as of a revision of its stream (-1: nothing was ever set). */
export interface SettingsView<S> {
  readonly state: S;
  readonly revision: number;
}

export interface SettingsStoreOptions<C, E extends SettingsEvent, S> {
  readonly log: EventLog;
  readonly definition: SettingsDefinition<C, E, S>;
  readonly decode: DecodeSettingsEvent<E>;
  /** How old a held state may be before a read looks for newer events. Default 2000 ms. */
  readonly freshnessMs?: number;
  /** Milliseconds now (tests move it). */
  readonly now?: () => number;
  /** Conflicting appends retried before giving up. Default 10. */
  readonly maxRetries?: number;
}

export interface SettingsChange<E, S> {
  /** What the change appended ([] when it changed nothing). */
  readonly events: readonly E[];
  readonly view: SettingsView<S>;
}

export interface SettingsStore<C, E extends SettingsEvent, S> {
  readonly definition: SettingsDefinition<C, E, S>;
  readonly stream: string;
  /** The settings, at most `freshnessMs` old. */
  current(): Promise<SettingsView<S>>;
  /** The settings as the log has them now. */
  fresh(): Promise<SettingsView<S>>;
  /** Decides `command` on the latest state and appends what it decided, recorded with `actor`. */
  change(command: C, actor: Actor): Promise<SettingsChange<E, S>>;
}

const PAGE = 500;

const isWrongExpectedRevision = (error: unknown): boolean =>
  error instanceof WrongExpectedRevisionError ||
  (typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'wrong_expected_revision');

export const createSettingsStore = <C, E extends SettingsEvent, S>(
  options: SettingsStoreOptions<C, E, S>,
): SettingsStore<C, E, S> => {
  const { log, definition, decode, freshnessMs = 2000, now = Date.now, maxRetries = 10 } = options;
  const stream = settingsStream(definition.kind);
  let held: SettingsView<S> = { state: definition.initial, revision: -1 };
  let heldAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<SettingsView<S>> | undefined;

  /** Folds the events after the held revision onto the held state. */
  const readTail = async (): Promise<SettingsView<S>> => {
    const startedAt = now();
    let view = held;
    for (;;) {
      const page = await log.readStream(stream, { fromRevision: view.revision + 1, maxCount: PAGE });
      let state = view.state;
      for (const recorded of page) {
        const event = decode(recorded);
        if (event !== undefined) state = definition.evolve(state, event);
      }
      if (page.length > 0) view = { state, revision: page.at(-1)!.revision };
      if (page.length < PAGE) break;
    }
    // Another read may have finished with a later revision meanwhile: keep the later one.
    if (view.revision >= held.revision) held = view;
    heldAt = startedAt;
    return held;
  };

  const fresh = (): Promise<SettingsView<S>> => {
    // Reads in flight are shared: a burst of messages costs one read.
    reading ??= readTail().finally(() => {
      reading = undefined;
    });
    return reading;
  };

  const current = async (): Promise<SettingsView<S>> => (now() - heldAt < freshnessMs ? held : fresh());

  const change = async (command: C, actor: Actor): Promise<SettingsChange<E, S>> => {
    const commandId = `settings:${definition.kind}:${randomUUID()}`;
    for (let attempt = 0; ; attempt++) {
      const before = await fresh();
      const events = definition.decide(command, before.state);
      if (events.length === 0) return { events, view: before };
      const occurredAt = new Date(now()).toISOString();
      const toAppend: NewEvent[] = events.map((e, i) => ({
        id: commandEventId(stream, commandId, i),
        type: e.type,
        data: e.data,
        metadata: { occurredAt, correlationId: commandId, causationId: commandId, actor },
      }));
      try {
        await log.append(stream, toAppend, before.revision < 0 ? 'no_stream' : before.revision);
      } catch (error) {
        if (isWrongExpectedRevision(error) && attempt < maxRetries) continue;
        throw error;
      }
      // Not a read that may have started before the append: one of its own.
      return { events, view: await readTail() };
    }
  };

  return { definition, stream, current, fresh, change };
};
