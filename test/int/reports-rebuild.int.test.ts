// The reports projection built live, one event per batch, equals a rebuild from zero: on a generated
// history (seeded, so a failure can be replayed) with several managers, assignments, automatic
// replies, edits, deletions, closings, reopenings, a banned client and working hours that change on
// the way — the rows, the facts, and every report built from them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import type { ConversationCommand } from '../../src/domain/conversation-commands.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import type { Actor } from '../../src/domain/events.ts';
import { reportsProjection } from '../../src/projections/read-models/reports.ts';
import { reportGroupings, responseReport } from '../../src/projections/read-models/reports-query.ts';
import { rebuildProjection } from '../../src/projections/rebuild.ts';
import { startProjectionRunner } from '../../src/projections/runner.ts';
import { driver, handlerFor } from '../support/conversations.ts';
import type { TestDatabase } from '../support/db.ts';
import { withLogDatabase } from '../support/log-database.ts';

/** mulberry32: a small seeded generator, so the history is the same on every run. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const managers: Actor[] = [
  { kind: 'manager', id: '101', name: 'Gina' },
  { kind: 'manager', id: '102', name: 'Hugo' },
  { kind: 'manager', id: '103', name: 'Ines' },
];
const text = (t: string) => ({ text: t, attachments: [] });

const snapshot = async (db: TestDatabase) => {
  const period = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2027-01-01T00:00:00Z') };
  const reports = [];
  for (const groupBy of reportGroupings)
    for (const timeZone of ['UTC', 'Asia/Kathmandu'])
      reports.push(await responseReport(db.pool, { ...period, groupBy, timeZone }));
  return {
    conversations: (await db.pool.query('SELECT * FROM rm_report_conversations ORDER BY conversation_id'))
      .rows,
    facts: (
      await db.pool.query(
        `SELECT * FROM rm_report_facts ORDER BY conversation_id, at, kind, manager_id NULLS FIRST, wall_s NULLS FIRST`,
      )
    ).rows,
    settings: (await db.pool.query('SELECT * FROM rm_report_settings')).rows,
    reports,
  };
};

describe('reports: live equals rebuilt', () => {
  let db: TestDatabase;
  let log: EventLog;
  withLogDatabase((x) => {
    ({ db, log } = x);
  });

  it('on a generated history with edits, deletions, reopenings and several managers', {
    timeout: 120_000,
  }, async () => {
    const runner = startProjectionRunner({
      db: sqlDatabase(db.pool),
      log,
      projections: [reportsProjection],
      batchSize: 1,
    });
    const random = seeded(16);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const handler = handlerFor(log);
    let now = Date.parse('2026-03-02T07:00:00Z');
    const tick = () => {
      // Mostly minutes, sometimes hours or a weekend.
      const r = random();
      now += r < 0.7 ? random() * 600_000 : r < 0.95 ? random() * 4 * 3_600_000 : random() * 60 * 3_600_000;
      return new Date(now).toISOString();
    };
    const hours = async (type: 'WorkingHoursSet' | 'WorkingHoursCleared', data: object) =>
      log.append(
        'settings-hours',
        [
          {
            id: randomUUID(),
            type,
            data,
            metadata: {
              occurredAt: tick(),
              correlationId: randomUUID(),
              causationId: randomUUID(),
              actor: { kind: 'system', id: 'admin-api' },
            },
          },
        ],
        'any',
      );

    const clients = Array.from({ length: 10 }, (_, i) => ({
      d: driver(handler, i % 3 === 0 ? 'shop' : 'desk', `client-${i}`),
      source: i % 3 === 0 ? 'shop' : 'desk',
      clientId: `client-${i}`,
      messages: [] as string[],
      answers: [] as Array<{ id: string; by: Actor }>,
      n: 0,
    }));
    const run = async (c: (typeof clients)[number], command: ConversationCommand, actor?: Actor) => {
      try {
        await handler.execute(c.d.conversationId, command, {
          commandId: randomUUID(),
          actor: actor ?? { kind: 'client', id: c.clientId },
          occurredAt: tick(),
        });
      } catch {
        // A command the state refuses (closing twice, unassigning nobody) records nothing.
      }
    };
    const days = ['08:00-12:00', '13:00-18:00'];
    for (let step = 0; step < 500; step++) {
      if (step === 150)
        await hours('WorkingHoursSet', {
          hours: {
            timeZone: 'Europe/Berlin',
            weekly: { mon: days, tue: days, wed: days, thu: days, fri: ['09:00-15:00'] },
            exceptions: [{ date: '2026-03-09', hours: [] }],
          },
        });
      if (step === 350) await hours('WorkingHoursCleared', {});
      if (step === 420)
        await hours('WorkingHoursSet', {
          hours: { timeZone: 'America/New_York', weekly: { sat: ['10:00-14:00'] }, exceptions: [] },
        });
      const c = pick(clients);
      const manager = pick(managers);
      const r = random();
      if (r < 0.35 || c.messages.length === 0) {
        const id = `${c.d.conversationId}-m${c.n++}`;
        c.messages.push(id);
        await run(c, {
          type: 'ReceiveClientMessage',
          conversationId: c.d.conversationId,
          channel: 'external',
          source: c.source,
          clientId: c.clientId,
          profile: { firstName: 'Client' },
          messageId: id,
          content: text('question'),
        });
      } else if (r < 0.6) {
        const id = `${c.d.conversationId}-a${c.n++}`;
        c.answers.push({ id, by: manager });
        await run(
          c,
          {
            type: 'ReplyAsManager',
            messageId: id,
            managerId: manager.id,
            managerName: manager.name!,
            content: text('answer'),
          },
          manager,
        );
      } else if (r < 0.65) {
        await run(
          c,
          {
            type: 'SendAutomaticReply',
            reason: 'off_hours',
            messageId: `${c.d.conversationId}-auto${c.n++}`,
            content: text('we are closed'),
            period: new Date(now).toISOString(),
          },
          { kind: 'system', id: 'auto-reply' },
        );
      } else if (r < 0.7) {
        await run(c, { type: 'EditClientMessage', messageId: pick(c.messages), content: text('edited') });
      } else if (r < 0.75) {
        await run(c, { type: 'DeleteClientMessage', messageId: pick(c.messages) });
      } else if (r < 0.78 && c.answers.length > 0) {
        const a = pick(c.answers);
        await run(c, { type: 'DeleteManagerReply', messageId: a.id }, a.by);
      } else if (r < 0.86) {
        await run(c, { type: 'CloseConversation' }, manager);
      } else if (r < 0.89) {
        await run(c, { type: 'ReopenConversation' }, manager);
      } else if (r < 0.95) {
        await run(
          c,
          { type: 'AssignConversation', assigneeId: manager.id, assigneeName: manager.name! },
          manager,
        );
      } else if (r < 0.97) {
        await run(c, { type: 'UnassignConversation' }, manager);
      } else if (r < 0.985) {
        await run(c, { type: 'BanClient' }, manager);
      } else {
        await run(c, { type: 'UnbanClient' }, manager);
      }
    }

    const head = Number(
      (await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM td_events')).rows[0]!.n,
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await db.pool.query<{ n: string }>(
        `SELECT events_applied AS n FROM td_projections WHERE name = 'reports' AND status = 'active'`,
      );
      if (Number(rows[0]?.n) === head) break;
      if (Date.now() > deadline) throw new Error('the live runner did not catch up');
      await new Promise((r) => setTimeout(r, 50));
    }
    const live = await snapshot(db);
    // The history is rich enough to mean something.
    const kinds = new Set(live.facts.map((f) => f.kind));
    assert.deepEqual([...kinds].sort(), ['a', 'c', 'i', 'o', 'r']);
    assert.ok(live.facts.filter((f) => f.kind === 'a' && f.wall_s !== null).length > 30, 'many responses');
    assert.ok(
      live.facts.some((f) => f.wall_s !== null && f.business_s !== null && f.business_s < f.wall_s),
      'some waits counted in working hours',
    );
    assert.equal(new Set(live.facts.map((f) => f.manager_id).filter(Boolean)).size, 3);

    await rebuildProjection({ db: sqlDatabase(db.pool), log, projection: reportsProjection });
    const rebuilt = await snapshot(db);
    assert.deepEqual(rebuilt, live);

    // Conversations per group, for periods cut anywhere through the history, equal their definition:
    // the distinct conversations with an opening, a client's message or an answer in the period.
    const { rows: span } = await db.pool.query<{ first: Date; last: Date }>(
      'SELECT min(at) AS first, max(at) AS last FROM rm_report_facts',
    );
    const first = span[0]!.first.getTime();
    const width = span[0]!.last.getTime() - first;
    for (let i = 0; i < 24; i++) {
      const a = first + random() * width;
      const b = first + random() * width;
      const from = new Date(Math.min(a, b));
      const to = new Date(Math.max(a, b) + 1000);
      const groupBy = reportGroupings[i % reportGroupings.length]!;
      const timeZone = i % 2 === 0 ? 'UTC' : 'Asia/Kathmandu';
      const report = await responseReport(db.pool, { from, to, groupBy, timeZone });
      const expected = await conversationsByDefinition(db, { from, to, groupBy, timeZone });
      const got = Object.fromEntries(report.rows.map((r) => [r.key, r.conversations]));
      for (const [key, n] of Object.entries(got)) if (n === 0) assert.equal(key in expected.groups, false);
      assert.deepEqual(
        Object.fromEntries(Object.entries(got).filter(([, n]) => n > 0)),
        expected.groups,
        `${groupBy} from ${from.toISOString()} to ${to.toISOString()} in ${timeZone}`,
      );
      assert.equal(report.total.conversations, expected.total);
    }
    await runner.stop();
  });
});

/** count(DISTINCT …) straight over the facts: what the report's counting by `prev_*` must equal. */
const conversationsByDefinition = async (
  db: TestDatabase,
  q: { from: Date; to: Date; groupBy: (typeof reportGroupings)[number]; timeZone: string },
) => {
  const key = {
    manager: `coalesce(manager_id, '')`,
    assignee: `coalesce(assignee_id, '')`,
    source: 'source',
    channel: 'channel',
    day: `to_char(at AT TIME ZONE $3, 'YYYY-MM-DD')`,
  }[q.groupBy];
  const where = `at >= $1 AND at < $2 AND kind IN ('o', 'i', 'a') AND $3::text IS NOT NULL`;
  const params = [q.from, q.to, q.timeZone];
  const { rows } = await db.pool.query<{ key: string; n: string }>(
    `SELECT ${key} AS key, count(DISTINCT conversation_id) AS n FROM rm_report_facts WHERE ${where} GROUP BY 1`,
    params,
  );
  const total = await db.pool.query<{ n: string }>(
    `SELECT count(DISTINCT conversation_id) AS n FROM rm_report_facts WHERE ${where}`,
    params,
  );
  return {
    groups: Object.fromEntries(rows.map((r) => [r.key, Number(r.n)])),
    total: Number(total.rows[0]!.n),
  };
};
