// The reports projection on a real PostgreSQL: figures of a small history computed by hand (exact
// numbers, by manager, assignee, source and day in two zones), working hours counted from the
// schedule the log held at each answer, and "waiting now" from the conversations read model.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import type { Actor } from '../../src/domain/events.ts';
import { conversationsProjection } from '../../src/projections/read-models/conversations.ts';
import { reportsProjection } from '../../src/projections/read-models/reports.ts';
import {
  type ReportGroupBy,
  responseReport,
  waitingNow,
} from '../../src/projections/read-models/reports-query.ts';
import { catchUpProjection } from '../../src/projections/runner.ts';
import type { TestDatabase } from '../support/db.ts';
import { withLogDatabase } from '../support/log-database.ts';

const client = (id: string): Actor => ({ kind: 'client', id });
const gina: Actor = { kind: 'manager', id: '42', name: 'Gina' };
const hugo: Actor = { kind: 'manager', id: '43', name: 'Hugo' };
const system: Actor = { kind: 'system', id: 'auto-reply' };

/** Appends one event at a chosen time, as the writers would have recorded it. */
const record =
  (log: EventLog) => async (stream: string, at: string, actor: Actor, type: string, data: object) => {
    await log.append(
      stream,
      [
        {
          id: randomUUID(),
          type,
          data,
          metadata: { occurredAt: at, correlationId: randomUUID(), causationId: randomUUID(), actor },
        },
      ],
      'any',
    );
  };

const msg = (messageId: string, extra: object = {}) => ({
  messageId,
  text: messageId,
  attachments: [],
  suppressed: false,
  ...extra,
});
const answer = (messageId: string, m: Actor, extra: object = {}) => ({
  messageId,
  managerId: m.id,
  managerName: m.name,
  text: messageId,
  attachments: [],
  groupMessage: { chatId: '-100', messageId },
  ...extra,
});
const started = (id: string, channel: string, source: string) => ({
  conversationId: id,
  channel,
  source,
  clientId: id,
  profile: { firstName: id },
});

const catchUp = async (db: TestDatabase, log: EventLog) => {
  for (const projection of [reportsProjection, conversationsProjection])
    await catchUpProjection({ db: sqlDatabase(db.pool), log, projection });
};

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';

describe('reports: a small history computed by hand', () => {
  let db: TestDatabase;
  let log: EventLog;
  withLogDatabase((x) => {
    ({ db, log } = x);
  });
  const november = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') };
  const report = (groupBy: ReportGroupBy, timeZone?: string) =>
    responseReport(db.pool, { ...november, groupBy, ...(timeZone ? { timeZone } : {}) });

  before(async () => {
    const r = record(log);
    const a = `conversation-${A}`;
    // A (Telegram), Monday 2 November 2026, UTC.
    await r(
      a,
      '2026-11-02T09:00:00Z',
      client('A'),
      'ConversationStarted',
      started(A, 'telegram', 'telegram'),
    );
    await r(a, '2026-11-02T09:00:00Z', client('A'), 'ClientMessageReceived', msg('a1'));
    await r(a, '2026-11-02T09:00:01Z', system, 'ManagerReplied', {
      ...answer('auto1', { kind: 'manager', id: 'auto-reply', name: 'auto-reply' }),
      automatic: { reason: 'welcome' },
    });
    await r(a, '2026-11-02T09:01:00Z', client('A'), 'ClientMessageReceived', msg('a2'));
    await r(a, '2026-11-02T09:05:00Z', gina, 'ConversationAssigned', {
      assigneeId: '42',
      assigneeName: 'Gina',
    });
    await r(a, '2026-11-02T09:10:00Z', gina, 'ManagerReplied', answer('g1', gina)); // first: 600 s
    await r(a, '2026-11-02T09:20:00Z', client('A'), 'ClientMessageReceived', msg('a3'));
    await r(a, '2026-11-02T09:21:00Z', client('A'), 'ClientMessageDeleted', { messageId: 'a3' });
    await r(a, '2026-11-02T09:50:00Z', hugo, 'ManagerReplied', answer('h1', hugo)); // 1800 s
    await r(a, '2026-11-02T09:55:00Z', hugo, 'ManagerReplied', answer('h2', hugo)); // no wait
    await r(a, '2026-11-02T10:00:00Z', hugo, 'ConversationClosed', {}); // 3600 s
    await r(a, '2026-11-02T11:00:00Z', client('A'), 'ConversationReopened', {});
    await r(a, '2026-11-02T11:00:00Z', client('A'), 'ClientMessageReceived', msg('a4'));
    await r(a, '2026-11-02T11:30:00Z', gina, 'ManagerReplied', answer('g2', gina)); // 1800 s
    await r(a, '2026-11-02T12:00:00Z', gina, 'ConversationClosed', {}); // 3600 s
    // CSAT: the client rates 4 after the closing; it counts for Gina, who answered last.
    await r(a, '2026-11-02T12:00:01Z', system, 'RatingRequested', { requestId: 'q1' });
    await r(a, '2026-11-02T12:02:00Z', client('A'), 'ConversationRated', { requestId: 'q1', rating: 4 });
    // B (an external source), Tuesday: the second answer is on Wednesday in Berlin.
    const b = `conversation-${B}`;
    await r(b, '2026-11-03T08:00:00Z', client('B'), 'ConversationStarted', started(B, 'external', 'shop'));
    await r(b, '2026-11-03T08:00:00Z', client('B'), 'ClientMessageReceived', msg('b1'));
    await r(b, '2026-11-03T08:30:00Z', hugo, 'ManagerReplied', answer('h3', hugo)); // first: 1800 s
    await r(b, '2026-11-03T22:30:00Z', client('B'), 'ClientMessageReceived', msg('b2'));
    await r(b, '2026-11-03T23:30:00Z', gina, 'ManagerReplied', answer('g3', gina)); // 3600 s
    // C (VK), Thursday: still waiting; a banned client's message counts for nothing.
    const c = `conversation-${C}`;
    await r(c, '2026-11-05T10:00:00Z', client('C'), 'ConversationStarted', started(C, 'vk', 'vk'));
    await r(c, '2026-11-05T10:00:00Z', client('C'), 'ClientMessageReceived', msg('c1'));
    await r(c, '2026-11-05T10:05:00Z', client('C'), 'ClientMessageReceived', msg('c2', { suppressed: true }));
    await catchUp(db, log);
  });

  it('totals: counts, medians, p90 and maxima of first responses, responses and resolutions', async () => {
    const { total, business_hours, rows } = await report('day');
    assert.equal(business_hours, false);
    assert.deepEqual(total, {
      conversations: 3,
      first_response: { count: 2, median_s: 1200, p90_s: 1680, max_s: 1800 },
      response: { count: 5, median_s: 1800, p90_s: 2880, max_s: 3600 },
      resolution: { count: 2, median_s: 3600, p90_s: 3600, max_s: 3600 },
      reopened: 1,
      messages_in: 7,
      messages_out: 6,
      rating: { count: 1, average: 4 },
    });
    assert.deepEqual(
      rows.map((x) => [x.key, x.conversations, x.response.count, x.messages_in, x.messages_out]),
      [
        ['2026-11-02', 1, 3, 4, 4],
        ['2026-11-03', 1, 2, 2, 2],
        ['2026-11-05', 1, 0, 1, 0],
      ],
    );
  });

  it('by manager: answers and closings go to who made them, clients’ messages to nobody', async () => {
    const { rows } = await report('manager');
    assert.deepEqual(
      rows.map((x) => ({
        key: x.key,
        label: x.label,
        conversations: x.conversations,
        first: x.first_response,
        response: x.response,
        resolution: x.resolution.count,
        reopened: x.reopened,
        in: x.messages_in,
        out: x.messages_out,
      })),
      [
        {
          key: '',
          label: '(none)',
          conversations: 3,
          first: { count: 0, median_s: null, p90_s: null, max_s: null },
          response: { count: 0, median_s: null, p90_s: null, max_s: null },
          resolution: 0,
          reopened: 1,
          in: 7,
          out: 0,
        },
        {
          key: '42',
          label: 'Gina',
          conversations: 2,
          first: { count: 1, median_s: 600, p90_s: 600, max_s: 600 },
          response: { count: 3, median_s: 1800, p90_s: 3240, max_s: 3600 },
          resolution: 1,
          reopened: 0,
          in: 0,
          out: 3,
        },
        {
          key: '43',
          label: 'Hugo',
          conversations: 2,
          first: { count: 1, median_s: 1800, p90_s: 1800, max_s: 1800 },
          response: { count: 2, median_s: 1800, p90_s: 1800, max_s: 1800 },
          resolution: 1,
          reopened: 0,
          in: 0,
          out: 3,
        },
      ],
    );
  });

  it('ratings count for the manager who answered last, the source and the day', async () => {
    const rated = (rows: readonly { key: string; rating: { count: number; average: number | null } }[]) =>
      rows.filter((x) => x.rating.count > 0).map((x) => [x.key, x.rating.count, x.rating.average]);
    assert.deepEqual(rated((await report('manager')).rows), [['42', 1, 4]]);
    assert.deepEqual(rated((await report('source')).rows), [['telegram', 1, 4]]);
    assert.deepEqual(rated((await report('day')).rows), [['2026-11-02', 1, 4]]);
  });

  it('by assignee, source and channel', async () => {
    const assignee = await report('assignee');
    assert.deepEqual(
      assignee.rows.map((x) => [x.key, x.label, x.response.count, x.messages_in, x.messages_out]),
      [
        ['', '(none)', 2, 5, 2], // A before 09:05 (a1, a2), all of B and C
        ['42', 'Gina', 3, 2, 4],
      ],
    );
    const source = await report('source');
    assert.deepEqual(
      source.rows.map((x) => [x.key, x.first_response.median_s, x.response.count]),
      [
        ['shop', 1800, 2],
        ['telegram', 600, 3],
        ['vk', null, 0],
      ],
    );
    const channel = await report('channel');
    assert.deepEqual(
      channel.rows.map((x) => x.key),
      ['external', 'telegram', 'vk'],
    );
  });

  it('days in another zone: an answer at 23:30 UTC is the next day in Berlin', async () => {
    const { rows } = await report('day', 'Europe/Berlin');
    assert.deepEqual(
      rows.map((x) => [x.key, x.response.count, x.response.max_s]),
      [
        ['2026-11-02', 3, 1800],
        ['2026-11-03', 1, 1800],
        ['2026-11-04', 1, 3600],
        ['2026-11-05', 0, null],
      ],
    );
  });

  it('a period counts what happened inside it', async () => {
    const tuesday = await responseReport(db.pool, {
      from: new Date('2026-11-03T00:00:00Z'),
      to: new Date('2026-11-04T00:00:00Z'),
      groupBy: 'day',
    });
    assert.equal(tuesday.total.conversations, 1);
    assert.deepEqual(tuesday.total.response, { count: 2, median_s: 2700, p90_s: 3420, max_s: 3600 });
    const empty = await responseReport(db.pool, {
      from: new Date('2026-10-01T00:00:00Z'),
      to: new Date('2026-11-01T00:00:00Z'),
      groupBy: 'manager',
    });
    assert.deepEqual(empty.rows, []);
    assert.equal(empty.total.response.count, 0);
    assert.equal(empty.total.response.median_s, null);
  });

  it('waiting now: C waits since 10:00, unassigned', async () => {
    assert.deepEqual(await waitingNow(db.pool, new Date('2026-11-05T11:00:00Z')), {
      waiting: 1,
      unassigned: 1,
      oldest_waiting_s: 3600,
    });
  });
});

describe('reports: working hours from the log', () => {
  let db: TestDatabase;
  let log: EventLog;
  withLogDatabase((x) => {
    ({ db, log } = x);
  });

  it('counts only open seconds, by the schedule in force at each answer; none set: wall clock', async () => {
    const r = record(log);
    const admin: Actor = { kind: 'system', id: 'admin-api' };
    // Berlin, Monday to Friday 09:00–18:00 (UTC+1 in November: 08:00–17:00 UTC).
    const days = ['09:00-18:00'];
    await r('settings-hours', '2026-11-01T00:00:00Z', admin, 'WorkingHoursSet', {
      hours: {
        timeZone: 'Europe/Berlin',
        weekly: { mon: days, tue: days, wed: days, thu: days, fri: days },
        exceptions: [],
      },
    });
    const d = `conversation-${A}`;
    // Friday 16:30 UTC (17:30 in Berlin) → Monday 08:15 UTC: 30 min on Friday + 15 on Monday.
    await r(
      d,
      '2026-11-06T16:30:00Z',
      client('D'),
      'ConversationStarted',
      started(A, 'telegram', 'telegram'),
    );
    await r(d, '2026-11-06T16:30:00Z', client('D'), 'ClientMessageReceived', msg('d1'));
    await r(d, '2026-11-09T08:15:00Z', gina, 'ManagerReplied', answer('g1', gina));
    await catchUp(db, log);
    const november = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') };
    const withHours = await responseReport(db.pool, { ...november, groupBy: 'day' });
    assert.equal(withHours.business_hours, true);
    assert.deepEqual(withHours.total.first_response, { count: 1, median_s: 2700, p90_s: 2700, max_s: 2700 });

    // The schedule removed: the report says so and shows the wall clock (2 days 15 h 45 min).
    await r('settings-hours', '2026-11-10T00:00:00Z', admin, 'WorkingHoursCleared', {});
    await catchUp(db, log);
    const without = await responseReport(db.pool, { ...november, groupBy: 'day' });
    assert.equal(without.business_hours, false);
    assert.equal(without.total.first_response.max_s, 229_500);
  });
});
