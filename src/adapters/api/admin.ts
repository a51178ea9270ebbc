// The admin API (docs/design.md, "The audit history"; `/api/admin`): handlers by operationId for
// the routes openapi/ declares.
// One bearer token, ADMIN_TOKEN, compared in constant time; without it the admin API is off (404).
// Conversations are listed from the read model; a conversation's history and its state at a moment
// come straight from the log (the audit trail does not depend on a projection being current).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { EventLog } from '../../domain/event-log.ts';
import { type SourceCompat, SourceError } from '../../domain/source.ts';
import {
  conversationAt,
  conversationHistory,
  type DecodeConversationEvent,
} from '../../projections/history.ts';
import {
  type ConversationRef,
  ConversationRefError,
  parseIsoTime,
  resolveConversationRef,
} from '../../projections/history-refs.ts';
import { allProjections, projectionByName } from '../../projections/index.ts';
import { RebuildInProgressError } from '../../projections/rebuild.ts';
import type { SqlDatabase } from '../../projections/sql.ts';
import { projectionStatus } from '../../projections/status.ts';
import { badRequest, problem } from '../http/problem.ts';
import type { RouteDefinition, RouteHandler } from '../http/routes.ts';
import { conversationIdOf } from '../ids.ts';
import { createTemplatesStore, type TemplatesStore } from '../settings/templates.ts';
import {
  changeSourceCompat,
  createSource,
  issueToken,
  rotateWebhookSecret,
  runSourceCommand,
} from '../sources/sources.ts';
import {
  type CheckedWebhookUrl,
  checkWebhookUrl,
  type PrivateAddressPolicy,
  PUBLIC_ONLY,
  type Resolve,
  WebhookAddressError,
} from '../webhooks/address-guard.ts';
import { listFailedDeliveries } from '../webhooks/deliveries.ts';
import {
  type ConversationCursor,
  findConversation,
  listConversations,
  listSources,
  sourceOfToken,
} from './admin-read-model.ts';
import { adminReportHandlers } from './admin-reports.ts';
import { type AdminSettingsOptions, adminSettingsHandlers } from './admin-settings.ts';
import { adminTemplateHandlers } from './admin-templates.ts';
import { CompatError, compatLabel, parseCompat } from './compat/dialect.ts';
import { createRebuildJobs, type RebuildJobs } from './rebuild-jobs.ts';

export interface AdminApiOptions {
  readonly pool: pg.Pool;
  readonly sql: SqlDatabase;
  readonly log: EventLog;
  readonly decode: DecodeConversationEvent;
  readonly logger: Logger;
  /** Unset: the admin API answers 404 on every route. */
  readonly adminToken?: string;
  /** The log's size, for a rebuild's ETA. */
  readonly estimateLogSize?: () => Promise<number | undefined>;
  /** Non-public addresses a webhook URL may point at (WEBHOOK_ALLOW_PRIVATE). Default: none. */
  readonly allowPrivate?: PrivateAddressPolicy;
  /** Name resolution for the webhook URL check. Default: the system's. */
  readonly resolve?: Resolve;
  /** The saved answers (shared with the Telegram channel, so a change here is seen there at once). */
  readonly templates?: TemplatesStore;
  /** Texts and working hours (their routes answer 404 without them). */
  readonly settings?: Omit<AdminSettingsOptions, 'log' | 'actor'>;
}

export interface AdminApi {
  readonly handlers: Readonly<Record<string, RouteDefinition>>;
  /** Waits for rebuilds started here. */
  stop(): Promise<void>;
}

/** How long a rotated webhook secret keeps signing beside the new one, unless the request says. */
export const DEFAULT_GRACE_SECONDS = 86_400;

/** The actor id recorded on source and token changes made through the admin API. */
export const ADMIN_ACTOR_ID = 'admin-api';

const digest = (text: string) => createHash('sha256').update(text).digest();

const encodeCursor = (c: ConversationCursor) =>
  Buffer.from(JSON.stringify([c.lastActivityAt, c.conversationId])).toString('base64url');

const decodeCursor = (text: string): ConversationCursor | undefined => {
  try {
    const [at, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof at !== 'string' || typeof id !== 'string') return undefined;
    if (Number.isNaN(Date.parse(at)) || !/^[0-9a-f-]{36}$/.test(id)) return undefined;
    return { lastActivityAt: at, conversationId: id };
  } catch {
    return undefined;
  }
};

export const createAdminApi = (options: AdminApiOptions): AdminApi => {
  const { pool, log, logger } = options;
  const expected = options.adminToken ? digest(options.adminToken) : undefined;
  const rebuilds: RebuildJobs = createRebuildJobs({
    db: options.sql,
    log,
    ...(options.estimateLogSize ? { estimateTotal: options.estimateLogSize } : {}),
    onError: (err, projection) => logger.error({ err, projection }, 'rebuild from the admin API failed'),
  });

  const guard: RouteHandler = async (_request, reply) => {
    if (!expected) {
      return problem(reply, 404, 'Not Found', 'the admin API is off: set ADMIN_TOKEN to turn it on');
    }
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(_request.headers.authorization ?? '');
    // Digests of equal length: the comparison takes the same time whatever was sent.
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
      return problem(
        reply.header('WWW-Authenticate', 'Bearer realm="topicdesk-admin"'),
        401,
        'Unauthorized',
        'missing or wrong admin token (ADMIN_TOKEN)',
      );
    }
    return undefined;
  };

  type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  const route = (fn: Handler): RouteDefinition => ({
    onRequest: [guard],
    async handler(request, reply) {
      try {
        return await fn(request, reply);
      } catch (error) {
        if (error instanceof SourceError) {
          const status =
            error.code === 'source_exists' || error.code === 'token_revoked'
              ? 409
              : error.code === 'invalid_source_code'
                ? 400
                : 404;
          if (status === 400) return badRequest(reply, [{ field: 'body.code', message: error.message }]);
          return problem(reply, status, status === 409 ? 'Conflict' : 'Not Found', error.message, {
            code: error.code,
          });
        }
        throw error;
      }
    },
  });

  const params = (request: FastifyRequest) => request.params as Record<string, string>;
  const query = (request: FastifyRequest) => request.query as Record<string, unknown>;

  /** The path's conversation: a UUID, or `channel:clientId` / `external:source:clientId`. */
  const conversationRef = (request: FastifyRequest, reply: FastifyReply): ConversationRef | undefined => {
    try {
      return resolveConversationRef(params(request).conversation ?? '', conversationIdOf);
    } catch (error) {
      if (!(error instanceof ConversationRefError)) throw error;
      void badRequest(reply, [{ field: 'params.conversation', message: error.message }]);
      return undefined;
    }
  };

  const notStarted = (reply: FastifyReply, ref: ConversationRef) =>
    problem(reply, 404, 'Not Found', `the log has no conversation ${ref.conversationId}`, {
      code: 'conversation_not_found',
    });

  const handlers: Record<string, RouteDefinition> = {
    adminListConversations: route(async (request, reply) => {
      const q = query(request);
      let after: ConversationCursor | undefined;
      if (typeof q.cursor === 'string') {
        after = decodeCursor(q.cursor);
        if (!after)
          return badRequest(reply, [
            { field: 'query.cursor', message: 'is not a cursor this API gave out (next_cursor)' },
          ]);
      }
      const text = typeof q.q === 'string' ? q.q.trim() : '';
      const page = await listConversations(pool, {
        ...(typeof q.channel === 'string' ? { channel: q.channel } : {}),
        ...(typeof q.source === 'string' ? { source: q.source } : {}),
        ...(typeof q.client_id === 'string' ? { clientId: q.client_id } : {}),
        ...(q.status === 'open' || q.status === 'closed' ? { status: q.status } : {}),
        ...(typeof q.banned === 'boolean' ? { banned: q.banned } : {}),
        ...(text ? { q: text } : {}),
        ...(after ? { after } : {}),
        limit: typeof q.limit === 'number' ? q.limit : 50,
      });
      return {
        conversations: page.conversations,
        next_cursor: page.next ? encodeCursor(page.next) : null,
      };
    }),

    adminGetConversation: route(async (request, reply) => {
      const ref = conversationRef(request, reply);
      if (!ref) return reply;
      let at: Date | undefined;
      const atText = query(request).at;
      if (typeof atText === 'string') {
        const parsed = parseIsoTime(atText);
        if (!parsed)
          return badRequest(reply, [
            { field: 'query.at', message: 'must be an ISO 8601 time, e.g. 2025-03-01T12:30:00Z' },
          ]);
        at = parsed;
      }
      const state = await conversationAt(log, ref.conversationId, at ?? new Date(), options.decode);
      if (state.revision < 0 && state.firstRecordedAt === null) return notStarted(reply, ref);
      return {
        conversation: (await findConversation(pool, ref.conversationId)) ?? null,
        state,
      };
    }),

    adminConversationEvents: route(async (request, reply) => {
      const ref = conversationRef(request, reply);
      if (!ref) return reply;
      const events = await conversationHistory(log, ref.conversationId, options.decode);
      if (events.length === 0) return notStarted(reply, ref);
      return { conversation_id: ref.conversationId, events };
    }),

    adminProjections: route(async () => ({
      projections: await projectionStatus(options.sql, log),
      rebuilds: rebuilds.list(),
    })),

    adminStartRebuild: route(async (request, reply) => {
      const name = params(request).name ?? '';
      const projection = projectionByName(name);
      if (!projection)
        return problem(
          reply,
          404,
          'Not Found',
          `no projection "${name}"; known: ${allProjections.map((p) => p.name).join(', ')}`,
        );
      try {
        const job = await rebuilds.start(projection);
        return reply.code(202).header('Location', `/api/admin/rebuilds/${job.id}`).send(job);
      } catch (error) {
        if (error instanceof RebuildInProgressError)
          return problem(reply, 409, 'Conflict', error.message, { code: error.code });
        throw error;
      }
    }),

    adminGetRebuild: route(async (request, reply) => {
      const job = rebuilds.get(params(request).rebuildId ?? '');
      if (!job)
        return problem(
          reply,
          404,
          'Not Found',
          'no such rebuild on this instance (rebuilds are watched on the instance that started them; GET /api/admin/projections shows every generation being built)',
        );
      return job;
    }),

    adminListSources: route(async () => ({ sources: await listSources(pool) })),

    adminCreateSource: route(async (request, reply) => {
      const body = request.body as {
        code: string;
        webhook_url?: string | null;
        compat?: string | null;
        time_zone?: string;
      };
      let compat: SourceCompat | undefined;
      try {
        compat = body.compat ? parseCompat(body.compat, body.time_zone) : undefined;
      } catch (error) {
        if (!(error instanceof CompatError)) throw error;
        return badRequest(reply, [{ field: 'body.compat', message: error.message }]);
      }
      let webhookUrl: CheckedWebhookUrl | null = null;
      if (body.webhook_url) {
        try {
          webhookUrl = await checkWebhookUrl(
            body.webhook_url,
            options.allowPrivate ?? PUBLIC_ONLY,
            ...(options.resolve ? [options.resolve] : []),
          );
        } catch (error) {
          if (!(error instanceof WebhookAddressError)) throw error;
          return badRequest(reply, [{ field: 'body.webhook_url', message: error.message }]);
        }
      }
      const created = await createSource(log, body.code, webhookUrl, ADMIN_ACTOR_ID, compat);
      return reply.code(201).send({
        code: body.code,
        webhook_url: webhookUrl,
        ...(compat ? { compat: compatLabel(compat), time_zone: compat.timeZone } : {}),
        webhook_secret: webhookUrl ? created.webhookSecret : null,
        token_id: created.tokenId,
        token: created.token,
      });
    }),

    adminChangeSourceCompat: route(async (request, reply) => {
      const code = params(request).code ?? '';
      const body = request.body as { compat: string | null; time_zone?: string };
      let compat: SourceCompat | null;
      try {
        compat = body.compat === null ? null : parseCompat(body.compat, body.time_zone);
      } catch (error) {
        if (!(error instanceof CompatError)) throw error;
        return badRequest(reply, [{ field: 'body.compat', message: error.message }]);
      }
      await changeSourceCompat(log, code, compat, ADMIN_ACTOR_ID);
      return reply.code(200).send({
        code,
        compat: compat ? compatLabel(compat) : null,
        ...(compat ? { time_zone: compat.timeZone } : {}),
      });
    }),

    adminRotateWebhookSecret: route(async (request, reply) => {
      const code = params(request).code ?? '';
      const body = (request.body ?? {}) as { grace_seconds?: number };
      const graceSeconds = body.grace_seconds ?? DEFAULT_GRACE_SECONDS;
      const rotated = await rotateWebhookSecret(log, code, graceSeconds * 1000, ADMIN_ACTOR_ID);
      return reply.code(200).send({
        code,
        webhook_secret: rotated.webhookSecret,
        previous_secret_valid_until: rotated.previousValidUntil,
      });
    }),

    adminCreateToken: route(async (request, reply) => {
      const code = params(request).code ?? '';
      const token = await issueToken(log, code, ADMIN_ACTOR_ID);
      return reply.code(201).send({ code, token_id: token.tokenId, token: token.token });
    }),

    adminRevokeToken: route(async (request, reply) => {
      const tokenId = params(request).tokenId ?? '';
      const code = await sourceOfToken(pool, tokenId);
      if (!code) return problem(reply, 404, 'Not Found', `no token ${tokenId}`, { code: 'token_not_found' });
      await runSourceCommand(log, code, { type: 'RevokeToken', tokenId }, ADMIN_ACTOR_ID);
      return reply.code(204).send();
    }),

    adminFailedDeliveries: route(async (request) => {
      const code = params(request).code ?? '';
      const q = query(request);
      const deliveries = await listFailedDeliveries(pool, code, {
        ...(typeof q.limit === 'number' ? { limit: q.limit } : {}),
        ...(typeof q.after === 'string' ? { after: q.after } : {}),
        ...(typeof q.include_retrying === 'boolean' ? { includeRetrying: q.include_retrying } : {}),
      });
      const limit = typeof q.limit === 'number' ? q.limit : 50;
      return {
        deliveries,
        next_cursor: deliveries.length === limit ? (deliveries.at(-1)?.delivery_id ?? null) : null,
      };
    }),

    ...adminTemplateHandlers({
      log,
      store: options.templates ?? createTemplatesStore(log),
      actor: { kind: 'system', id: ADMIN_ACTOR_ID },
      route,
    }),

    ...adminReportHandlers({ pool }, route),
  };

  if (options.settings) {
    Object.assign(
      handlers,
      adminSettingsHandlers(
        { ...options.settings, log, actor: { kind: 'system', id: ADMIN_ACTOR_ID } },
        route,
      ),
    );
  }

  return {
    handlers,
    stop: () => rebuilds.stop(),
  };
};
