// Saved answers in the log: the `templates` settings store (held, brought up to date within seconds),
// changes recorded with their actor, and a listing with who changed each template last. The CLI
// (templates:*), the admin API and the Telegram `/t` command use these; the rules are the domain's
// (src/domain/settings/templates.ts).
import type { EventLog } from '../../domain/event-log.ts';
import type { Actor } from '../../domain/events.ts';
import type {
  Template,
  TemplateCommand,
  TemplateEvent,
  TemplatesState,
} from '../../domain/settings/templates.ts';
import { type HistoryActor, settingsHistory } from '../../projections/history.ts';
import { templatesKind } from './kinds.ts';
import { createSettingsStore, type SettingsStore } from './store.ts';

export type TemplatesStore = SettingsStore<TemplateCommand, TemplateEvent, TemplatesState>;

/** The saved answers of `log`; `freshnessMs` is how old a held copy may be when read (default 2 s). */
export const createTemplatesStore = (log: EventLog, freshnessMs?: number): TemplatesStore =>
  createSettingsStore({
    log,
    definition: templatesKind.definition,
    decode: templatesKind.decode,
    ...(freshnessMs !== undefined ? { freshnessMs } : {}),
  });

export interface TemplateChange {
  readonly events: readonly TemplateEvent[];
  /** The template after the change; undefined when it is gone. */
  readonly template: Template | undefined;
  /** The change made the template (there was none by that name before). */
  readonly created: boolean;
}

/** Decides and records a change; `actor` is recorded with it (who changed which text, when). */
export const changeTemplates = async (
  store: TemplatesStore,
  command: TemplateCommand,
  actor: Actor,
): Promise<TemplateChange> => {
  const existed = (await store.fresh()).state.templates.has(command.name);
  const { events, view } = await store.change(command, actor);
  const template = view.state.templates.get(command.name);
  return { events, template, created: !existed && template !== undefined };
};

/** A template with when it last changed and who changed it. */
export interface ListedTemplate extends Template {
  readonly updatedAt: string;
  readonly updatedBy: HistoryActor;
}

/** The saved answers now, by name, each with its last change (read from the log). */
export const listTemplates = async (log: EventLog): Promise<ListedTemplate[]> => {
  const history = await settingsHistory(log, templatesKind.definition, templatesKind.decode);
  const state = history.reduce<TemplatesState>((s, entry) => {
    const event = { type: entry.type, data: entry.data } as TemplateEvent;
    return templatesKind.definition.evolve(s, event);
  }, templatesKind.definition.initial);
  const last = new Map<string, { at: string; actor: HistoryActor }>();
  for (const entry of history) {
    const name = (entry.data as { name?: unknown }).name;
    if (typeof name === 'string') last.set(name, { at: entry.recordedAt, actor: entry.actor });
  }
  return [...state.templates.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((t) => ({ ...t, updatedAt: last.get(t.name)!.at, updatedBy: last.get(t.name)!.actor }));
};
