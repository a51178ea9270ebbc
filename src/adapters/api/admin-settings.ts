// The admin API's settings routes (docs/design.md, "Settings streams"): texts per language, working
// hours, and any kind's audit history. Changes are recorded with the admin API's actor; a refused
// change is a 400 naming the field (or a 404 for an override that is not there), nothing recorded.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventLog } from '../../domain/event-log.ts';
import type { Actor } from '../../domain/events.ts';
import type { HoursCommand, HoursEvent, HoursState } from '../../domain/settings/hours.ts';
import type { TextsCommand, TextsEvent, TextsState } from '../../domain/settings/texts.ts';
import { isSettingsKind, SettingsError } from '../../domain/settings.ts';
import { settingsHistory } from '../../projections/history.ts';
import type { Locale } from '../../texts/catalogue.ts';
import { listTexts } from '../../texts/listing.ts';
import { badRequest, problem } from '../http/problem.ts';
import type { RouteDefinition } from '../http/routes.ts';
import { hoursField, hoursFromJson, hoursToJson } from '../settings/hours-format.ts';
import { settingsKindEntries } from '../settings/kinds.ts';
import { hoursAt } from '../settings/schedule.ts';
import type { SettingsStore } from '../settings/store.ts';

export interface AdminSettingsOptions {
  readonly log: EventLog;
  readonly textSettings: SettingsStore<TextsCommand, TextsEvent, TextsState>;
  readonly hours: SettingsStore<HoursCommand, HoursEvent, HoursState>;
  /** LOCALE: what a text without a translation falls back to. */
  readonly defaultLocale: Locale;
  readonly actor: Actor;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

const params = (request: FastifyRequest) => request.params as Record<string, string>;

/** Where a texts setting's refused field is in the request: the path names the text, the body holds it. */
const textField = (field: string) => (field === 'text' ? 'body.text' : `params.${field}`);

export const adminSettingsHandlers = (
  options: AdminSettingsOptions,
  route: (fn: Handler) => RouteDefinition,
): Record<string, RouteDefinition> => {
  const { log, textSettings, hours, actor } = options;

  const refusedText = (reply: FastifyReply, error: unknown) => {
    if (!(error instanceof SettingsError)) throw error;
    if (error.code === 'override_not_found')
      return problem(reply, 404, 'Not Found', error.message, { code: error.code });
    return badRequest(reply, [{ field: textField(error.field), message: error.message }]);
  };

  const hoursView = (state: HoursState, now = new Date()) => {
    if (!state.hours) return { hours: null, open_now: null, closed_since: null, opens_at: null };
    const at = hoursAt(state.hours, now);
    return {
      hours: hoursToJson(state.hours),
      open_now: at.open,
      closed_since: at.open ? null : (at.since?.toISOString() ?? null),
      opens_at: at.open ? null : (at.opensAt?.toISOString() ?? null),
    };
  };

  return {
    adminSettingsHistory: route(async (request, reply) => {
      const kind = params(request).kind ?? '';
      const entry = isSettingsKind(kind) ? settingsKindEntries[kind] : undefined;
      if (!entry) {
        return problem(
          reply,
          404,
          'Not Found',
          `no settings of kind "${kind}" in this version; known: ${Object.keys(settingsKindEntries).join(', ')}`,
        );
      }
      return { kind, events: await settingsHistory(log, entry.definition, entry.decode) };
    }),

    adminListTexts: route(async (request) => {
      const locale = (request.query as { locale?: Locale }).locale;
      const { state, revision } = await textSettings.fresh();
      return {
        revision,
        texts: listTexts(state.overrides, {
          defaultLocale: options.defaultLocale,
          ...(locale ? { locale } : {}),
        }),
      };
    }),

    adminSetText: route(async (request, reply) => {
      const { locale = '', key = '' } = params(request);
      const { text } = request.body as { text: string };
      try {
        const { events, view } = await textSettings.change(
          { type: 'SetTextOverride', locale, key, text },
          actor,
        );
        return { locale, key, text, changed: events.length > 0, revision: view.revision };
      } catch (error) {
        return refusedText(reply, error);
      }
    }),

    adminRemoveText: route(async (request, reply) => {
      const { locale = '', key = '' } = params(request);
      try {
        await textSettings.change({ type: 'RemoveTextOverride', locale, key }, actor);
        return reply.code(204).send();
      } catch (error) {
        return refusedText(reply, error);
      }
    }),

    adminGetHours: route(async () => hoursView((await hours.fresh()).state)),

    adminSetHours: route(async (request, reply) => {
      try {
        const { view } = await hours.change(
          { type: 'SetWorkingHours', hours: hoursFromJson(request.body) },
          actor,
        );
        return hoursView(view.state);
      } catch (error) {
        if (!(error instanceof SettingsError)) throw error;
        const field = hoursField(error.field);
        return badRequest(reply, [{ field: field ? `body.${field}` : 'body', message: error.message }]);
      }
    }),

    adminClearHours: route(async (_request, reply) => {
      try {
        await hours.change({ type: 'ClearWorkingHours' }, actor);
        return reply.code(204).send();
      } catch (error) {
        if (!(error instanceof SettingsError)) throw error;
        return problem(reply, 404, 'Not Found', error.message, { code: error.code });
      }
    }),
  };
};
