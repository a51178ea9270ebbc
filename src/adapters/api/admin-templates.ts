// The admin API's saved answers (`/api/admin/templates`): list, read, set a language's text, remove
// a text or the whole template. Changes are recorded with the actor `system:admin-api`; the
// settings history lists them with every other settings change. A refusal names its field:
// `params.name` (the name's format, an unknown template), `params.locale`, `body.text` (empty, too
// long, an unknown variable).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventLog } from '../../domain/event-log.ts';
import type { Actor } from '../../domain/events.ts';
import type { Template } from '../../domain/settings/templates.ts';
import { SettingsError } from '../../domain/settings.ts';
import { badRequest, problem } from '../http/problem.ts';
import type { RouteDefinition } from '../http/routes.ts';
import {
  changeTemplates,
  type ListedTemplate,
  listTemplates,
  type TemplatesStore,
} from '../settings/templates.ts';

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export interface AdminTemplatesOptions {
  readonly log: EventLog;
  readonly store: TemplatesStore;
  readonly actor: Actor;
  /** Wraps a handler with the admin API's token check. */
  readonly route: (fn: Handler) => RouteDefinition;
}

/** A template as the API shows it. */
const resource = (t: ListedTemplate) => ({
  name: t.name,
  version: t.version,
  texts: t.texts,
  updated_at: t.updatedAt,
  updated_by: t.updatedBy,
});

const paramField: Record<string, string> = {
  name: 'params.name',
  locale: 'params.locale',
  text: 'body.text',
};

/** A refused change as the API answers it: 404 for what does not exist, else 400 naming the field. */
const refusal = (reply: FastifyReply, error: SettingsError) => {
  if (error.code === 'template_not_found' || error.code === 'template_text_not_found')
    return problem(reply, 404, 'Not Found', error.message, { code: error.code });
  return badRequest(reply, [
    { field: paramField[error.field] ?? `body.${error.field}`, message: error.message },
  ]);
};

export const adminTemplateHandlers = (options: AdminTemplatesOptions): Record<string, RouteDefinition> => {
  const { log, store, actor, route } = options;
  const params = (request: FastifyRequest) => request.params as Record<string, string>;

  const listed = async (name: string): Promise<ListedTemplate | undefined> =>
    (await listTemplates(log)).find((t) => t.name === name);

  const notFound = (reply: FastifyReply, name: string) =>
    problem(reply, 404, 'Not Found', `no template "${name}"`, { code: 'template_not_found' });

  const changing = (fn: Handler): RouteDefinition =>
    route(async (request, reply) => {
      try {
        return await fn(request, reply);
      } catch (error) {
        if (error instanceof SettingsError) return refusal(reply, error);
        throw error;
      }
    });

  /** After a change: the template as it now stands (201 when the change made it). */
  const answerWith = async (reply: FastifyReply, template: Template | undefined, created: boolean) => {
    const now = template && (await listed(template.name));
    if (!now) return reply.code(204).send();
    return reply.code(created ? 201 : 200).send(resource(now));
  };

  return {
    adminListTemplates: route(async () => ({ templates: (await listTemplates(log)).map(resource) })),

    adminGetTemplate: route(async (request, reply) => {
      const name = params(request).name ?? '';
      const found = await listed(name);
      return found ? resource(found) : notFound(reply, name);
    }),

    adminSetTemplateText: changing(async (request, reply) => {
      const { name = '', locale = '' } = params(request);
      const { text } = request.body as { text: string };
      const change = await changeTemplates(store, { type: 'SetTemplateText', name, locale, text }, actor);
      return answerWith(reply, change.template, change.created);
    }),

    adminRemoveTemplateText: changing(async (request, reply) => {
      const { name = '', locale = '' } = params(request);
      const change = await changeTemplates(store, { type: 'RemoveTemplate', name, locale }, actor);
      return answerWith(reply, change.template, false);
    }),

    adminRemoveTemplate: changing(async (request, reply) => {
      const name = params(request).name ?? '';
      await changeTemplates(store, { type: 'RemoveTemplate', name }, actor);
      return reply.code(204).send();
    }),
  };
};
