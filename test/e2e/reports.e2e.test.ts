// Response-time reports end to end: the whole app with the Telegram stand-in; clients write, managers
// answer in the topics, and the admin API (and the CLI) report who answered how fast and who waits.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ResponseReport, WaitingNow } from '../../src/projections/read-models/reports-query.ts';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import { cli } from '../support/cli.ts';
import { client } from './api-helpers.ts';

const ADMIN_TOKEN = 'admin-token-for-the-reports-0123456789';

interface Problem {
  status: number;
  errors?: Array<{ field: string; message: string }>;
}

describe('response-time reports (whole app)', () => {
  let h: Harness;
  const admin = () => client(h, { code: 'admin', token: ADMIN_TOKEN, tokenId: 'admin' });
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

  before(async () => {
    h = await startHarness({ ADMIN_TOKEN });
    // Ada asks and Alice answers; Boris asks and nobody has answered yet.
    const ada = h.tg.addUser({ first_name: 'Ada' });
    const question = h.tg.privateMessage(ada, { text: 'Where is my order?' });
    await h.send(question);
    await h.topicCopyOf(ada.id, question.message!.message_id);
    const alice = h.tg.addManager({ first_name: 'Alice' });
    await h.send(h.tg.groupMessage(alice, await h.topicOf(ada.id), { text: 'It ships today' }));
    const boris = h.tg.addUser({ first_name: 'Boris' });
    await h.send(h.tg.privateMessage(boris, { text: 'Hello?' }));
    await waitFor('the answer in the reports', async () => {
      const { rows } = await h.db.pool.query(`SELECT 1 FROM rm_report_facts WHERE kind = 'a'`);
      const waiting = await h.db.pool.query(`SELECT 1 FROM rm_conversations WHERE waiting_since IS NOT NULL`);
      return rows.length === 1 && waiting.rows.length === 1 ? true : undefined;
    });
  });
  after(async () => {
    await h.stop();
  });

  it('refuses a missing or wrong token with 401', async () => {
    for (const path of ['/api/admin/reports/response-times', '/api/admin/reports/waiting']) {
      for (const token of [null, 'wrong-token-wrong-token']) {
        const res = await admin().get<Problem>(path, { token });
        assert.equal(res.status, 401, path);
      }
    }
  });

  it('reports by manager: Alice answered one client once; the shape is the contract’s', async () => {
    const res = await admin().get<ResponseReport>(
      `/api/admin/reports/response-times?from=${today}&to=${tomorrow}&group_by=manager`,
    );
    assert.equal(res.status, 200);
    const r = res.body;
    assert.equal(r.group_by, 'manager');
    assert.equal(r.business_hours, false);
    assert.equal(r.from, `${today}T00:00:00.000Z`);
    assert.equal(r.to, `${tomorrow}T00:00:00.000Z`);
    assert.deepEqual(
      r.rows.map((x) => [x.label, x.conversations, x.first_response.count, x.messages_in, x.messages_out]),
      [
        ['(none)', 2, 0, 2, 0],
        ['Alice', 1, 1, 0, 1],
      ],
    );
    const alice = r.rows[1]!;
    assert.ok(alice.first_response.median_s !== null && alice.first_response.median_s >= 0);
    assert.deepEqual(Object.keys(r.total).sort(), [
      'conversations',
      'first_response',
      'messages_in',
      'messages_out',
      'rating',
      'reopened',
      'resolution',
      'response',
    ]);
    assert.deepEqual(r.total.rating, { count: 0, average: null });
    assert.equal(r.total.conversations, 2);
  });

  it('defaults: the last 7 days by day', async () => {
    const res = await admin().get<ResponseReport>('/api/admin/reports/response-times');
    assert.equal(res.status, 200);
    assert.equal(res.body.group_by, 'day');
    assert.deepEqual(
      res.body.rows.map((x) => x.key),
      [today],
    );
    assert.equal(Date.parse(res.body.to) - Date.parse(res.body.from), 7 * 86_400_000);
  });

  it('names the wrong parameter: a bad from, to before from, an unknown group_by or zone', async () => {
    const cases: Array<[string, string]> = [
      ['from=yesterday', 'query.from'],
      ['from=2026-02-30', 'query.from'],
      ['from=2026-12-01&to=2026-11-01', 'query.to'],
      ['group_by=weather', 'query.group_by'],
      ['time_zone=Mars/Olympus', 'query.time_zone'],
    ];
    for (const [query, field] of cases) {
      const res = await admin().get<Problem>(`/api/admin/reports/response-times?${query}`);
      assert.equal(res.status, 400, query);
      assert.deepEqual(
        res.body.errors?.map((e) => e.field),
        [field],
        query,
      );
    }
  });

  it('who waits now: Boris, nobody assigned', async () => {
    const res = await admin().get<WaitingNow>('/api/admin/reports/waiting');
    assert.equal(res.status, 200);
    assert.equal(res.body.waiting, 1);
    assert.equal(res.body.unassigned, 1);
    assert.ok(res.body.oldest_waiting_s !== null && res.body.oldest_waiting_s >= 0);
  });

  it('Prometheus: who waits, the oldest wait, and the first answers as a histogram', async () => {
    const text = await (await fetch(`${h.url}/metrics`)).text();
    const sample = (name: string) => {
      const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    assert.equal(sample('topicdesk_conversations_waiting'), 1);
    assert.equal(sample('topicdesk_conversations_waiting_unassigned'), 1);
    assert.ok((sample('topicdesk_oldest_waiting_seconds') ?? -1) >= 0);
    assert.equal(sample('topicdesk_first_response_seconds_count'), 1);
    assert.equal(sample('topicdesk_first_response_seconds_bucket\\{le="\\+Inf"\\}'), 1);
    // Telegram dates are whole seconds and the answer came at once: within the first bucket.
    assert.equal(sample('topicdesk_first_response_seconds_bucket\\{le="30"\\}'), 1);
  });

  it('the CLI prints a table, and CSV on request (read-only)', async () => {
    const env = { DATABASE_URL: h.db.roles!.serviceUrl, LOG_LEVEL: 'silent' };
    const table = await cli(['report', '--from', today, '--to', tomorrow, '--by', 'manager'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.lines[0]!, /^manager\s+conversations\s+first median.*\sin\s+out\s+rated\s+rating$/);
    assert.ok(
      table.lines.some((l) => /^Alice\s+1\s/.test(l)),
      table.stdout,
    );
    assert.ok(
      table.lines.some((l) => /^total\s+2\s/.test(l)),
      table.stdout,
    );

    const csv = await cli(['report', '--from', today, '--to', tomorrow, '--by', 'manager', '--csv'], env);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(
      csv.lines[0],
      'key,label,conversations,first_response_count,first_response_median_s,first_response_p90_s,first_response_max_s,response_count,response_median_s,response_p90_s,response_max_s,resolution_count,resolution_median_s,resolution_p90_s,resolution_max_s,reopened,messages_in,messages_out,rating_count,rating_average',
    );
    assert.equal(csv.lines.length, 4); // header, (none), Alice, total
    assert.match(csv.lines.at(-1)!, /^total,total,2,1,/);

    const wrong = await cli(['report', '--from', '2026-12-01', '--to', '2026-11-01'], env);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /--to/);
  });
});
