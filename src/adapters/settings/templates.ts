// Saved answers in the log: reading the `settings-templates` stream, changing it with an actor, and
// its history for the audit. The CLI (templates:*), the admin API and the Telegram `/t` command use
// these; the rules themselves are the domain's (src/domain/settings/templates.ts).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EventLog, RecordedEvent } from '../../domain/event-log.ts';
import type { Actor } from '../../domain/events.ts';
import {
  decideTemplates,
  evolveTemplates,
  initialTemplatesState,
  TEMPLATES_STREAM,
  type Template,
  type TemplateCommand,
  TemplateError,
  type TemplateEvent,
  type TemplatesState,
  templateEventTypes,
} from '../../domain/settings/templates.ts';
import { runStreamCommand } from '../../domain/stream-handler.ts';
import { type Locale, locales } from '../../texts/catalogue.ts';
import { eventIdOf } from '../ids.ts';

const schemas: {
  readonly [T in TemplateEvent['type']]: z.ZodType<Extract<TemplateEvent, { type: T }>['data']>;
} = {
  TemplateTextSet: z.object({
    name: z.string(),
    locale: z.string(),
    text: z.string(),
    version: z.number().int().positive(),
  }),
  TemplateTextRemoved: z.object({
    name: z.string(),
    locale: z.string(),
    version: z.number().int().positive(),
  }),
  TemplateRemoved: z.object({ name: z.string(), version: z.number().int().positive() }),
};

const isTemplateEventType = (type: string): type is TemplateEvent['type'] =>
  (templateEventTypes as readonly string[]).includes(type);

/** A template event as the log holds it, checked; undefined for a type this version does not know. */
const decode = (recorded: { type: string; data: unknown }): TemplateEvent | undefined => {
  if (!isTemplateEventType(recorded.type)) return undefined;
  const parsed = schemas[recorded.type].safeParse(recorded.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `invalid ${recorded.type} event: data.${(issue?.path ?? []).join('.')}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return { type: recorded.type, data: parsed.data } as TemplateEvent;
};

/** Folds the stream, noting when each template last changed and who changed it. */
const fold = (recorded: readonly RecordedEvent[]) => {
  let state = initialTemplatesState;
  const changed = new Map<string, TemplateChangeStamp>();
  for (const r of recorded) {
    const event = decode(r);
    if (!event) continue;
    state = evolveTemplates(state, event);
    changed.set(event.data.name, { recordedAt: r.recordedAt.toISOString(), actor: actorOf(r) });
  }
  return { state, changed };
};

const decider = {
  initial: initialTemplatesState,
  // runStreamCommand hands recorded events in as they are: checked here like every read.
  evolve: (state: TemplatesState, event: TemplateEvent) => {
    const checked = decode(event);
    return checked ? evolveTemplates(state, checked) : state;
  },
  decide: decideTemplates,
};

/** The templates as the log has them now. */
export const readTemplates = async (log: EventLog): Promise<TemplatesState> =>
  fold(await log.readStream(TEMPLATES_STREAM)).state;

/** When a template last changed and who changed it. */
export interface TemplateChangeStamp {
  readonly recordedAt: string;
  readonly actor: { readonly kind: string; readonly id: string; readonly name: string | null };
}

/** The templates now, with when and by whom each last changed (for listings). */
export const readTemplatesWithChanges = async (log: EventLog) => fold(await log.readStream(TEMPLATES_STREAM));

/** The shipped languages a template text may be written in (the client's language picks one). */
export const isTemplateLocale = (locale: string): locale is Locale =>
  (locales as readonly string[]).includes(locale);

const checkLocale = (locale: string | undefined): void => {
  if (locale !== undefined && !isTemplateLocale(locale))
    throw new TemplateError(
      'unknown_locale',
      'locale',
      `"${locale}" is not a language topicdesk ships: use ${locales.join(' or ')}`,
    );
};

export interface TemplateChange {
  readonly events: readonly TemplateEvent[];
  /** The template after the change; undefined when it is gone. */
  readonly template: Template | undefined;
  /** True when the change made the template (it did not exist before). */
  readonly created: boolean;
}

/** Decides and records a change; `actor` is recorded with it (who changed which text, when). */
export const changeTemplates = async (
  log: EventLog,
  command: TemplateCommand,
  actor: Actor,
): Promise<TemplateChange> => {
  checkLocale(command.locale);
  const commandId = randomUUID();
  let before: Template | undefined;
  const { state, events } = await runStreamCommand(
    log,
    TEMPLATES_STREAM,
    {
      ...decider,
      decide: (c: TemplateCommand, s: TemplatesState) => {
        before = s.templates.get(c.name);
        return decideTemplates(c, s);
      },
    },
    command,
    (i) => ({
      id: eventIdOf(`${commandId}:${i}`),
      metadata: {
        occurredAt: new Date().toISOString(),
        correlationId: commandId,
        causationId: commandId,
        actor,
      },
    }),
  );
  return {
    events,
    template: state.templates.get(command.name),
    created: before === undefined && events.length > 0,
  };
};

/** One change of a template, for the audit: what changed, by whom, when the log recorded it. */
export interface TemplateHistoryEntry extends TemplateChangeStamp {
  readonly type: TemplateEvent['type'];
  readonly version: number;
  readonly locale: string | null;
  readonly text: string | null;
}

function actorOf(recorded: RecordedEvent): TemplateChangeStamp['actor'] {
  const actor = (recorded.metadata as { actor?: Partial<Actor> } | undefined)?.actor;
  return { kind: actor?.kind ?? 'system', id: actor?.id ?? '', name: actor?.name ?? null };
}

/** Every change of template `name`, oldest first ([] when it never existed). */
export const templateHistory = async (log: EventLog, name: string): Promise<TemplateHistoryEntry[]> => {
  const entries: TemplateHistoryEntry[] = [];
  for (const recorded of await log.readStream(TEMPLATES_STREAM)) {
    const event = decode(recorded);
    if (!event || event.data.name !== name) continue;
    entries.push({
      type: event.type,
      version: event.data.version,
      locale: 'locale' in event.data ? event.data.locale : null,
      text: event.type === 'TemplateTextSet' ? event.data.text : null,
      actor: actorOf(recorded),
      recordedAt: recorded.recordedAt.toISOString(),
    });
  }
  return entries;
};
