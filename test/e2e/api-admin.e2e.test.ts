// The admin and audit API end to end: the whole app on a real PostgreSQL with the Telegram
// stand-in; an admin looks conversations up, reads their audit trail and their state at a past
// moment, rebuilds a projection while the API answers, and manages sources and tokens.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import { client } from './api-helpers.ts';

const ADMIN_TOKEN = 'admin-token-for-the-tests-0123456789';

const bot = (text: string) => ({
  text,
  entities: [{ type: 'bot_command' as const, offset: 0, length: text.length }],
});

interface Conversation {
  conversation_id: string;
  channel: string;
  client_id: string;
  status: string;
  banned: boolean;
  message_count: number;
}
interface Page {
  conversations: Conversation[];
  next_cursor: string | null;
}
interface HistoryEvent {
  type: string;
  recordedAt: string;
  actor: { kind: string; id: string; name: string | null };
  summary: string;
  data: Record<string, unknown>;
}
interface StateMessage {
  messageId: string;
  direction: string;
  text: string;
  deleted: boolean;
  edits: number;
}
interface Detail {
  conversation: Conversation | null;
  state: { revision: number; started: boolean; banned: boolean; messages: StateMessage[] };
}
interface Problem {
  status: number;
  detail?: string;
  errors?: Array<{ field: string; message: string }>;
}

describe('admin API (whole app)', () => {
  let h: Harness;
  const admin = () => client(h, { code: 'admin', token: ADMIN_TOKEN, tokenId: 'admin' });
  let ada: { userId: number; conversationId: string };
  let boris: { userId: number; conversationId: string };
  let beforeEdit: string;

  before(async () => {
    h = await startHarness({ ADMIN_TOKEN, WEBHOOK_RETRY_INITIAL_MS: '100' });
    // Ada asks, edits her question; a manager answers, edits the answer, then deletes it.
    const adaUser = h.tg.addUser({ first_name: 'Ada', username: 'ada_l' });
    const question = h.tg.privateMessage(adaUser, { text: 'Where is my order?' });
    await h.send(question);
    await h.topicCopyOf(adaUser.id, question.message!.message_id);
    const topic = await h.topicOf(adaUser.id);
    beforeEdit = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await h.send(
      h.tg.editedPrivateMessage(adaUser, question.message!.message_id, { text: 'Where is my order #42?' }),
    );
    const manager = h.tg.addManager({ first_name: 'Alice', last_name: 'Support' });
    const answer = h.tg.groupMessage(manager, topic, { text: 'It ships today' });
    await h.send(answer);
    await h.clientCopyOf(adaUser.id, answer.message!.message_id);
    await h.send(h.tg.editedGroupMessage(manager, answer.message!.message_id, { text: 'It ships tomorrow' }));
    await h.send(
      h.tg.groupMessage(manager, topic, bot('/delete'), { reply_to_message_id: answer.message!.message_id }),
    );
    ada = { userId: adaUser.id, conversationId: h.conversationOf(adaUser.id) };

    // Boris wants a refund, and gets banned.
    const borisUser = h.tg.addUser({ first_name: 'Boris' });
    // Telegram dates are whole seconds: a minute later, so Boris is clearly the most recent.
    const refund = h.tg.privateMessage(
      borisUser,
      { text: 'I want a REFUND now' },
      { date: Math.floor(Date.now() / 1000) + 60 },
    );
    await h.send(refund);
    await h.topicCopyOf(borisUser.id, refund.message!.message_id);
    await h.send(h.tg.groupMessage(manager, await h.topicOf(borisUser.id), bot('/ban')));
    boris = { userId: borisUser.id, conversationId: h.conversationOf(borisUser.id) };

    await waitFor('the read models', async () => {
      const { rows } = await h.db.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM rm_conversations WHERE banned AND conversation_id = $1`,
        [boris.conversationId],
      );
      return rows[0]!.n === '1' ? true : undefined;
    });
    await waitFor('the answer deleted in the read model', async () => {
      const { rows } = await h.db.pool.query(
        `SELECT 1 FROM rm_messages WHERE conversation_id = $1 AND deleted_at IS NOT NULL`,
        [ada.conversationId],
      );
      return rows.length > 0 ? true : undefined;
    });
  });
  after(async () => {
    await h.stop();
  });

  it('refuses a missing or wrong token with 401, and says which token it wants', async () => {
    for (const token of [null, 'wrong-token-wrong-token']) {
      const res = await admin().get<Problem>('/api/admin/conversations', { token });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.match(res.body.detail ?? '', /ADMIN_TOKEN/);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
  });

  it('lists conversations by last activity, filters them, and finds text in their messages', async () => {
    const all = await admin().get<Page>('/api/admin/conversations');
    assert.equal(all.status, 200);
    assert.deepEqual(
      all.body.conversations.map((c) => c.conversation_id),
      [boris.conversationId, ada.conversationId],
      'the most recently active first',
    );
    const refund = await admin().get<Page>('/api/admin/conversations?q=refund');
    assert.deepEqual(
      refund.body.conversations.map((c) => c.conversation_id),
      [boris.conversationId],
      'case-insensitive text search in messages',
    );
    const byName = await admin().get<Page>('/api/admin/conversations?q=ada_l');
    assert.deepEqual(
      byName.body.conversations.map((c) => c.conversation_id),
      [ada.conversationId],
    );
    const banned = await admin().get<Page>('/api/admin/conversations?banned=true');
    assert.deepEqual(
      banned.body.conversations.map((c) => c.client_id),
      [String(boris.userId)],
    );
    const none = await admin().get<Page>('/api/admin/conversations?q=100%25');
    assert.deepEqual(none.body.conversations, [], '% is a character, not a wildcard');
    const vk = await admin().get<Page>('/api/admin/conversations?channel=vk');
    assert.deepEqual(vk.body.conversations, []);
  });

  it('pages with a cursor: every conversation once, and a bad cursor or filter names the field', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/api/admin/conversations?limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await admin().get<Page>(path);
      assert.equal(page.status, 200);
      seen.push(...page.body.conversations.map((c) => c.conversation_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, [boris.conversationId, ada.conversationId]);

    const bad = await admin().get<Problem>('/api/admin/conversations?cursor=nonsense&status=maybe');
    assert.equal(bad.status, 400);
    assert.ok(
      bad.body.errors?.some((e) => e.field === 'query.status'),
      JSON.stringify(bad.body),
    );
    const badCursor = await admin().get<Problem>('/api/admin/conversations?cursor=nonsense');
    assert.equal(badCursor.status, 400);
    assert.deepEqual(
      badCursor.body.errors?.map((e) => e.field),
      ['query.cursor'],
    );
  });

  it("gives a conversation's whole audit trail: edits with the old text, the deletion, who did what", async () => {
    const res = await admin().get<{ conversation_id: string; events: HistoryEvent[] }>(
      `/api/admin/conversations/telegram:${ada.userId}/events`,
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.conversation_id, ada.conversationId, 'a channel:client reference works');
    const types = res.body.events.map((e) => e.type);
    for (const t of [
      'ConversationStarted',
      'ClientMessageReceived',
      'ClientMessageEdited',
      'ManagerReplied',
      'ReplyDelivered',
      'ManagerReplyEdited',
      'ManagerReplyDeleted',
    ])
      assert.ok(types.includes(t), `${t} in ${types.join(', ')}`);
    const edit = res.body.events.find((e) => e.type === 'ClientMessageEdited')!;
    assert.equal(edit.data.previousText, 'Where is my order?');
    assert.equal(edit.data.text, 'Where is my order #42?');
    const deleted = res.body.events.find((e) => e.type === 'ManagerReplyDeleted')!;
    assert.equal(deleted.actor.kind, 'manager');
    assert.equal(deleted.actor.name, 'Alice Support');
    const times = res.body.events.map((e) => Date.parse(e.recordedAt));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'in the order they were recorded',
    );

    const missing = await admin().get<Problem>('/api/admin/conversations/telegram:999999999/events');
    assert.equal(missing.status, 404);
    const malformed = await admin().get<Problem>('/api/admin/conversations/email:x/events');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.errors?.[0]?.field, 'params.conversation');
  });

  it('shows the conversation as it stood at a past moment: before the edit, and now', async () => {
    const then = await admin().get<Detail>(
      `/api/admin/conversations/${ada.conversationId}?at=${encodeURIComponent(beforeEdit)}`,
    );
    assert.equal(then.status, 200);
    assert.deepEqual(
      then.body.state.messages.map((m) => [m.direction, m.text, m.deleted]),
      [['incoming', 'Where is my order?', false]],
      'the question as first written, no answer yet',
    );
    const now = await admin().get<Detail>(`/api/admin/conversations/${ada.conversationId}`);
    assert.deepEqual(
      now.body.state.messages.map((m) => [m.direction, m.text, m.deleted]),
      [
        ['incoming', 'Where is my order #42?', false],
        ['outgoing', 'It ships tomorrow', true],
      ],
    );
    assert.equal(now.body.conversation?.conversation_id, ada.conversationId);
    assert.equal(now.body.conversation?.message_count, 2);

    const early = await admin().get<Detail>(
      `/api/admin/conversations/${ada.conversationId}?at=2000-01-01T00:00:00Z`,
    );
    assert.equal(early.status, 200);
    assert.equal(early.body.state.started, false, 'before it began');
    const bad = await admin().get<Problem>(`/api/admin/conversations/${ada.conversationId}?at=yesterday`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors?.[0]?.field, 'query.at');
  });

  it('rebuilds a projection on request, reports progress, and keeps answering meanwhile', async () => {
    // As after an upgrade: the messages tables in service were built by the previous version.
    await h.app.db.pool.query(
      `UPDATE td_projections SET version = version - 1 WHERE name = 'messages' AND status = 'active'`,
    );
    type Status = { name: string; status: string; lag: number; version: number; codeVersion: number | null };
    const status = await admin().get<{ projections: Status[] }>('/api/admin/projections');
    assert.equal(status.status, 200);
    const active = status.body.projections.filter((p) => p.status === 'active');
    assert.deepEqual(active.map((p) => p.name).sort(), [
      'conversation-state',
      'conversations',
      'messages',
      'reports',
      'sources',
    ]);
    const older = active.find((p) => p.name === 'messages')!;
    assert.equal(older.codeVersion, older.version + 1, 'the status says the tables are an older build');
    for (const p of active.filter((x) => x.name !== 'messages')) assert.equal(p.codeVersion, p.version);

    const started = await admin().call<{ id: string; state: string; projection: string }>(
      'POST',
      '/api/admin/projections/messages/rebuild',
    );
    assert.equal(started.status, 202);
    assert.equal(started.body.projection, 'messages');
    assert.equal(started.headers.get('location'), `/api/admin/rebuilds/${started.body.id}`);
    const listed = await admin().get<Page>('/api/admin/conversations?q=refund');
    assert.equal(listed.status, 200, 'the API answers during the rebuild');
    const done = await waitFor('the rebuild', async () => {
      const job = await admin().get<{ state: string; events: number; generation: number; phase: string }>(
        started.headers.get('location')!,
      );
      assert.equal(job.status, 200);
      assert.notEqual(job.body.state, 'failed');
      return job.body.state === 'done' ? job.body : undefined;
    });
    assert.equal(done.phase, 'done');
    assert.ok(done.events > 0, 'events applied');
    const after = await admin().get<{
      projections: Array<{
        name: string;
        status: string;
        generation: number;
        version: number;
        codeVersion: number;
      }>;
    }>('/api/admin/projections');
    const messages = after.body.projections.find((p) => p.name === 'messages' && p.status === 'active');
    assert.equal(messages?.generation, done.generation, 'the new generation is in service');
    assert.equal(messages?.version, messages?.codeVersion, 'built by this version');
    const refund = await admin().get<Page>('/api/admin/conversations?q=refund');
    assert.equal(refund.body.conversations.length, 1, 'the search reads the rebuilt messages');

    const unknown = await admin().call<Problem>('POST', '/api/admin/projections/nothing/rebuild');
    assert.equal(unknown.status, 400);
  });

  it('creates a source with its token and webhook secret, issues and revokes tokens', async () => {
    const created = await admin().call<{ token: string; token_id: string; webhook_secret: string | null }>(
      'POST',
      '/api/admin/sources',
      { json: { code: 'crm', webhook_url: 'http://127.0.0.1:9/hooks' } },
    );
    assert.equal(created.status, 201);
    assert.match(created.body.webhook_secret ?? '', /^whsec_/);
    const source = client(h, { code: 'crm', token: created.body.token, tokenId: created.body.token_id });
    await waitFor('the token to work', async () =>
      (await source.get('/api/external/messages')).status === 200 ? true : undefined,
    );

    const again = await admin().call<Problem>('POST', '/api/admin/sources', { json: { code: 'crm' } });
    assert.equal(again.status, 409);
    const bad = await admin().call<Problem>('POST', '/api/admin/sources', { json: { code: 'Not A Code' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors?.[0]?.field, 'body.code');

    const second = await admin().call<{ token: string; token_id: string }>(
      'POST',
      '/api/admin/sources/crm/tokens',
    );
    assert.equal(second.status, 201);
    const revoked = await admin().call('DELETE', `/api/admin/tokens/${created.body.token_id}`);
    assert.equal(revoked.status, 204);
    await waitFor('the revoked token refused', async () =>
      (await source.get('/api/external/messages')).status === 401 ? true : undefined,
    );
    const other = client(h, { code: 'crm', token: second.body.token, tokenId: second.body.token_id });
    assert.equal((await other.get('/api/external/messages')).status, 200, 'the other token still works');

    const listed = await admin().get<{
      sources: Array<{ code: string; tokens: Array<{ token_id: string; revoked_at: string | null }> }>;
    }>('/api/admin/sources');
    const crm = listed.body.sources.find((s) => s.code === 'crm');
    assert.deepEqual(
      crm?.tokens.map((t) => [t.token_id, t.revoked_at === null]),
      [
        [created.body.token_id, false],
        [second.body.token_id, true],
      ],
    );
    assert.ok(!JSON.stringify(listed.body).includes(second.body.token), 'no secret in the list');
    assert.equal((await admin().call('DELETE', '/api/admin/tokens/no-such-token')).status, 404);
    assert.equal((await admin().call('POST', '/api/admin/sources/nobody/tokens')).status, 404);
  });

  it('refuses a webhook URL on loopback, a private network or a metadata address (400 naming body.webhook_url)', async () => {
    // The harness allows 127.0.0.1 (WEBHOOK_ALLOW_PRIVATE=127.0.0.1), where the tests' receivers listen.
    const refused: Array<[string, RegExp]> = [
      ['http://169.254.169.254/latest/meta-data/', /^169\.254\.169\.254 is a link-local address/],
      ['http://[::1]:8080/hooks', /^::1 is a loopback address/],
      ['http://10.0.0.1/', /^10\.0\.0\.1 is a private network address/],
      ['http://127.0.0.2:8080/hooks', /^127\.0\.0\.2 is a loopback address/],
      ['http://[::ffff:192.168.1.1]/', /private network address/],
      ['http://100.64.1.1/', /carrier-grade NAT/],
    ];
    for (const [url, why] of refused) {
      const res = await admin().call<Problem>('POST', '/api/admin/sources', {
        json: { code: 'intranet', webhook_url: url },
      });
      assert.equal(res.status, 400, url);
      assert.equal(res.body.errors?.[0]?.field, 'body.webhook_url', url);
      assert.match(res.body.errors?.[0]?.message ?? '', why, url);
      assert.match(res.body.errors?.[0]?.message ?? '', /WEBHOOK_ALLOW_PRIVATE/, url);
    }
    const listed = await admin().get<{ sources: Array<{ code: string }> }>('/api/admin/sources');
    assert.ok(!listed.body.sources.some((s) => s.code === 'intranet'), 'nothing recorded');
    const events = await h.db.pool.query(`SELECT 1 FROM td_events WHERE stream = 'source-intranet'`);
    assert.equal(events.rowCount, 0);
  });

  it("rotates a source's webhook secret: the new one shown once, the rotation audited", async () => {
    const rotated = await admin().call<{
      code: string;
      webhook_secret: string;
      previous_secret_valid_until: string;
    }>('POST', '/api/admin/sources/crm/webhook-secret', { json: { grace_seconds: 600 } });
    assert.equal(rotated.status, 200);
    assert.match(rotated.body.webhook_secret, /^whsec_/);
    const until = Date.parse(rotated.body.previous_secret_valid_until) - Date.now();
    assert.ok(until > 590_000 && until <= 600_000, String(until));
    const { rows } = await h.db.pool.query<{
      data: { webhookSecret: string };
      metadata: { actor: { id: string } };
    }>(
      `SELECT data, metadata FROM td_events WHERE stream = 'source-crm' AND type = 'SourceWebhookSecretRotated'`,
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.data.webhookSecret, rotated.body.webhook_secret);
    assert.equal(rows[0]!.metadata.actor.id, 'admin-api');
    const listed = await admin().get('/api/admin/sources');
    assert.ok(!JSON.stringify(listed.body).includes(rotated.body.webhook_secret), 'never listed');

    const defaults = await admin().call<{ previous_secret_valid_until: string }>(
      'POST',
      '/api/admin/sources/crm/webhook-secret',
      { json: {} },
    );
    assert.equal(defaults.status, 200, JSON.stringify(defaults.body));
    const day = Date.parse(defaults.body.previous_secret_valid_until) - Date.now();
    assert.ok(day > 86_390_000 && day <= 86_400_000, `24 h by default: ${day}`);
    const bad = await admin().call<Problem>('POST', '/api/admin/sources/crm/webhook-secret', {
      json: { grace_seconds: -1 },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors?.[0]?.field, 'body.grace_seconds');
    const unknown = await admin().call<Problem>('POST', '/api/admin/sources/nobody/webhook-secret', {
      json: {},
    });
    assert.equal(unknown.status, 404);
  });

  it("lists a source's failed webhook deliveries", async () => {
    // `crm`'s webhook points at a closed port: a manager's answer fails and is retried.
    const created = await admin().call<{ token: string; token_id: string }>(
      'POST',
      '/api/admin/sources/crm/tokens',
    );
    const crm = client(h, { code: 'crm', token: created.body.token, tokenId: created.body.token_id });
    await waitFor('the token to work', async () =>
      (await crm.get('/api/external/messages')).status === 200 ? true : undefined,
    );
    const sent = await crm.call('POST', '/api/external/lead-7/messages', {
      json: { text: 'Hello from the CRM' },
    });
    assert.ok(sent.status === 201 || sent.status === 202, String(sent.status));
    const topic = await waitFor('the lead’s topic', () =>
      h.tg.topics().find((t) => t.name.includes('lead-7')),
    );
    const manager = h.tg.addManager({ first_name: 'Carl' });
    await h.send(h.tg.groupMessage(manager, topic.message_thread_id, { text: 'Hi, lead 7' }));
    const failed = await waitFor('a failed delivery', async () => {
      const res = await admin().get<{
        deliveries: Array<{ status: string; last_error: string; attempts: number }>;
      }>('/api/admin/sources/crm/deliveries/failed');
      assert.equal(res.status, 200);
      return res.body.deliveries.length > 0 ? res.body.deliveries : undefined;
    });
    assert.equal(failed[0]!.status, 'retrying');
    assert.ok(failed[0]!.attempts >= 1);
    assert.equal(failed[0]!.last_error, 'connection failed: ECONNREFUSED');
  });
});

describe('admin API without ADMIN_TOKEN', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  it('is off: every admin route answers 404 naming ADMIN_TOKEN, whatever token is sent', async () => {
    for (const token of [null, ADMIN_TOKEN]) {
      const res = await client(h).get<Problem>('/api/admin/conversations', { token });
      assert.equal(res.status, 404);
      assert.match(res.body.detail ?? '', /ADMIN_TOKEN/);
    }
  });
});
