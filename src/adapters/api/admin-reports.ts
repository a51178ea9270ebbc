// The admin API's report routes (docs/design.md, "Reports"): response times for a period, grouped,
// and who waits right now. Read-only, from the reports projection and rm_conversations.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { reportSchedule, responseReport, waitingNow } from '../../projections/read-models/reports-query.ts';
import { badRequest } from '../http/problem.ts';
import type { RouteDefinition } from '../http/routes.ts';
import { parseReportParams } from './report-params.ts';

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);

export const adminReportHandlers = (
  options: { readonly pool: pg.Pool; readonly now?: () => Date },
  route: (fn: Handler) => RouteDefinition,
): Record<string, RouteDefinition> => {
  const { pool, now = () => new Date() } = options;
  return {
    adminResponseTimes: route(async (request, reply) => {
      const q = request.query as Record<string, unknown>;
      const schedule = await reportSchedule(pool);
      const parsed = parseReportParams(
        {
          from: text(q.from),
          to: text(q.to),
          groupBy: text(q.group_by),
          timeZone: text(q.time_zone),
        },
        schedule?.timeZone ?? 'UTC',
        now(),
        { from: 'query.from', to: 'query.to', groupBy: 'query.group_by', timeZone: 'query.time_zone' },
      );
      if (!parsed.ok) return badRequest(reply, parsed.errors);
      return responseReport(pool, parsed.query);
    }),

    adminWaiting: route(async () => waitingNow(pool, now())),
  };
};
