// Upgrading to reports version 2 (docs/design.md, "Reports"): the generation a version-1 release
// built is given the new columns and rm_report_people at start, keeps being followed (its report
// answers, conversations counted from the activity recorded after the upgrade), and
// projections:rebuild brings version 2 with every figure counted from the first event.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import type { Actor } from '../../src/domain/events.ts';
import type { Projection } from '../../src/projections/projection.ts';
import { reportsProjection } from '../../src/projections/read-models/reports.ts';
import { responseReport } from '../../src/projections/read-models/reports-query.ts';
import { rebuildProjection } from '../../src/projections/rebuild.ts';
import { ensureActiveGeneration } from '../../src/projections/registry.ts';
import { catchUpProjection } from '../../src/projections/runner.ts';
import { driver, handlerFor } from '../support/conversations.ts';
import type { TestDatabase } from '../support/db.ts';
import { withLogDatabase } from '../support/log-database.ts';

/** The tables and indexes as the version-1 release created them. */
const version1: Projection = {
  ...reportsProjection,
  version: 1,
  tables: ['rm_report_conversations', 'rm_report_facts', 'rm_report_settings'],
  createTables: (t) => `
CREATE TABLE ${t('rm_report_conversations')} (
  conversation_id uuid PRIMARY KEY, channel text NOT NULL, source text NOT NULL,
  started_at timestamptz NOT NULL, opened_at timestamptz NOT NULL, status text NOT NULL,
  waiting_since timestamptz, first_response_at timestamptz, first_response_s int,
  first_response_business_s int, assignee_id text, assignee_name text, last_manager_id text,
  last_manager_name text, reopened int NOT NULL, messages_in int NOT NULL, messages_out int NOT NULL,
  revision bigint NOT NULL
);
CREATE TABLE ${t('rm_report_facts')} (
  at timestamptz NOT NULL, conversation_id uuid NOT NULL, kind "char" NOT NULL, first boolean NOT NULL,
  wall_s int, business_s int, rating smallint, manager_id text, manager_name text, assignee_id text,
  assignee_name text, source text NOT NULL, channel text NOT NULL
);
CREATE TABLE ${t('rm_report_settings')} (id int PRIMARY KEY CHECK (id = 1), hours jsonb, revision bigint NOT NULL)`,
  createIndexes: (t) => `CREATE INDEX ${t('rm_report_facts')}_at ON ${t('rm_report_facts')} (at)`,
};

const alice: Actor = { kind: 'manager', id: '501', name: 'Alice' };

describe('reports: upgrading from version 1', () => {
  let db: TestDatabase;
  let log: EventLog;
  withLogDatabase((x) => {
    ({ db, log } = x);
  });

  it('the old generation is upgraded in place and followed; a rebuild brings version 2', async () => {
    const sql = sqlDatabase(db.pool);
    await ensureActiveGeneration(sql, version1);
    // A start of the new release: the columns and the names' table are added to generation 1.
    await ensureActiveGeneration(sql, reportsProjection);
    const handler = handlerFor(log);
    for (const client of ['c1', 'c2']) {
      const d = driver(handler, 'shop', client);
      await d.run({
        type: 'ReceiveClientMessage',
        conversationId: d.conversationId,
        channel: 'external',
        source: 'shop',
        clientId: client,
        profile: { firstName: client },
        messageId: `${client}-m1`,
        content: { text: 'hello', attachments: [] },
      });
      await d.run(
        {
          type: 'ReplyAsManager',
          messageId: `${client}-a1`,
          managerId: alice.id,
          managerName: alice.name!,
          content: { text: 'hi', attachments: [] },
        },
        alice,
      );
    }
    await catchUpProjection({ db: sql, log, projection: reportsProjection });
    const { rows } = await db.pool.query<{ generation: number; version: number }>(
      `SELECT generation, version FROM td_projections WHERE name = 'reports' AND status = 'active'`,
    );
    assert.deepEqual(rows, [{ generation: 1, version: 1 }], 'still the old generation, upgraded');

    const period = { from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 86_400_000) };
    const upgraded = await responseReport(db.pool, { ...period, groupBy: 'manager' });
    assert.deepEqual(
      upgraded.rows.map((r) => [r.label, r.conversations, r.messages_in, r.messages_out]),
      [
        ['(none)', 2, 2, 0],
        ['Alice', 2, 0, 2],
      ],
    );
    assert.equal(upgraded.total.conversations, 2);

    await rebuildProjection({ db: sql, log, projection: reportsProjection });
    const { rows: now } = await db.pool.query<{ version: number }>(
      `SELECT version FROM td_projections WHERE name = 'reports' AND status = 'active'`,
    );
    assert.equal(now[0]!.version, 2);
    assert.deepEqual(await responseReport(db.pool, { ...period, groupBy: 'manager' }), upgraded);
  });
});
