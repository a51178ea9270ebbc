// A team switching from tg-support-bot: its database (a schema made here from what its migrations
// say, in an older and the newest layout) is imported with `npx topicdesk import:tg-support-bot`
// into a running topicdesk wired to the Telegram stand-in, where tg-support-bot had opened the topics
// and carried the old messages. Then the clients carry on where they were: a new message lands in
// the old topic, a reply to an old message threads, an edit of an old answer reaches the client's
// copy, a banned client stays banned and a source's old token still works. Running it twice, or dry,
// changes nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { conversationIdOf } from '../../src/adapters/ids.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { planConversation } from '../../src/app/tg-support-bot-import/plan.ts';
import { writeConversation } from '../../src/app/tg-support-bot-import/write.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import { cli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { RECEIVER_ALLOWANCE } from '../support/webhook-receiver.ts';
import { client, type Page } from './api-helpers.ts';

/** tg-support-bot's tables as its migrations leave them; `older` is the layout before 2025-12. */
const schema = (older: boolean) => `
CREATE TABLE bot_users (
  id bigserial PRIMARY KEY, chat_id bigint NOT NULL, topic_id bigint, platform varchar(255) NOT NULL,
  created_at timestamp(0), updated_at timestamp(0), external_source_id varchar(255)
  ${older ? '' : ', is_banned boolean NOT NULL DEFAULT false, banned_at timestamp(0), is_closed boolean NOT NULL DEFAULT false, closed_at timestamp(0)'}
);
CREATE TABLE messages (
  id bigserial PRIMARY KEY, bot_user_id bigint NOT NULL REFERENCES bot_users (id) ON DELETE CASCADE,
  platform varchar(255) NOT NULL,
  message_type varchar(255) NOT NULL CHECK (message_type IN ('incoming', 'outgoing')),
  from_id bigint NOT NULL, to_id bigint NOT NULL, ${older ? '' : 'text text,'}
  created_at timestamp(0), updated_at timestamp(0)
);
CREATE TABLE external_users (
  id bigserial PRIMARY KEY, external_id text NOT NULL, source varchar(255) NOT NULL,
  created_at timestamp(0), updated_at timestamp(0)
);
CREATE TABLE external_sources (
  id bigserial PRIMARY KEY, name varchar(255) NOT NULL UNIQUE, webhook_url varchar(255),
  created_at timestamp(0), updated_at timestamp(0)
);
CREATE TABLE external_source_access_tokens (
  id bigserial PRIMARY KEY,
  external_source_id bigint NOT NULL REFERENCES external_sources (id) ON DELETE CASCADE,
  token varchar(64) NOT NULL UNIQUE, active boolean NOT NULL DEFAULT true,
  created_at timestamp(0), updated_at timestamp(0)
);
CREATE TABLE external_messages (
  id bigserial PRIMARY KEY, message_id bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  text text, file_id text, created_at timestamp(0), updated_at timestamp(0),
  file_type text, send_status boolean ${older ? '' : ', file_name varchar(255)'}
);
${
  older
    ? ''
    : `CREATE TABLE message_attachments (
  id bigserial PRIMARY KEY, message_id bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  file_id text NOT NULL, file_type varchar(50) NOT NULL, file_name text,
  created_at timestamp(0), updated_at timestamp(0)
);`
}`;

const ADMIN_TOKEN = 'admin-token-for-the-import-tests-0123';

/** A 60-character token as tg-support-bot draws them (letters and digits). */
const oldToken = () =>
  randomBytes(45)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, 'x')
    .slice(0, 60);

const count = async (h: Harness): Promise<number> =>
  Number((await h.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM td_events')).rows[0]!.n);

describe('import:tg-support-bot', () => {
  let h: Harness;
  let newest: TestDatabase;
  let older: TestDatabase;
  let log: EventLog;
  const manager = { first_name: 'Gina' };
  let gina: Awaited<ReturnType<Harness['tg']['addManager']>>;

  /** What tg-support-bot did through the Bot API: post into a topic, or to a client. */
  const botSend = async (chatId: number, text: string, threadId?: number): Promise<number> => {
    const res = await fetch(`${h.tg.apiRoot}/bot${h.tg.token}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chat_id: chatId, text, ...(threadId ? { message_thread_id: threadId } : {}) }),
    });
    const body = (await res.json()) as { ok: boolean; result: { message_id: number } };
    assert.ok(body.ok, JSON.stringify(body));
    return body.result.message_id;
  };

  const env = () => ({
    DATABASE_URL: h.db.roles!.serviceUrl,
    DATABASE_OWNER_URL: h.db.roles!.ownerUrl,
    TELEGRAM_SUPPORT_CHAT_ID: String(h.tg.supportChatId),
    WEBHOOK_ALLOW_PRIVATE: RECEIVER_ALLOWANCE,
  });
  const runImport = async (from: TestDatabase | string, ...args: string[]) => {
    const url = typeof from === 'string' ? from : from.url;
    const run = await cli(['import:tg-support-bot', '--from', url, ...args], env(), {
      timeoutMs: 60_000,
    });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    return run;
  };

  // What the newest database holds, as the test made it.
  const alice = { row: '', chat: 0, topic: 0, question: 0, questionCopy: 0, answer: 0, answerCopy: 0 };
  const bob = { chat: 0, topic: 0 };
  const carol = { chat: 0, topic: 0 };
  let danId = '';
  let maxId = '';
  let orphanId = '';
  const shopToken = oldToken();
  let inactiveTokenId = '';
  let olderUser = { chat: 0, topic: 0 };
  let reader = '';

  before(async () => {
    h = await startHarness({ ADMIN_TOKEN });
    log = createPgEventLog({ pool: h.db.pool, connectionString: h.db.url });
    gina = h.tg.addManager(manager);
    newest = await createTestDatabase({ migrate: false });
    older = await createTestDatabase({ migrate: false });
    await newest.pool.query(schema(false));
    await older.pool.query(schema(true));
    const tg = h.tg;
    const group = tg.supportChatId;
    const q = (sql: string, params: unknown[] = []) => newest.pool.query(sql, params);
    /** A bot_users row; `extra` sets further columns (the ban and close ones). */
    const botUser = async (
      chat: number | string,
      topic: number | null,
      platform: string,
      extra: Record<string, unknown> = {},
    ) => {
      const columns = ['chat_id', 'topic_id', 'platform', 'created_at', ...Object.keys(extra)];
      const values = [chat, topic, platform, '2026-01-15 12:00:00', ...Object.values(extra)];
      const { rows } = await q(
        `INSERT INTO bot_users (${columns.join(', ')}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
        values,
      );
      return String(rows[0].id);
    };
    const message = async (
      botUserId: string,
      platform: string,
      type: 'incoming' | 'outgoing',
      from: number,
      to: number,
      text: string | null,
      at = '2026-01-15 12:05:00',
    ) =>
      String(
        (
          await q(
            `INSERT INTO messages (bot_user_id, platform, message_type, from_id, to_id, text, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
            [botUserId, platform, type, from, to, text, at],
          )
        ).rows[0].id,
      );

    // Alice (Telegram) asked, a manager answered: both sides of both messages exist in Telegram.
    const a = tg.addUser({ first_name: 'Alice' });
    alice.chat = a.id;
    alice.topic = tg.topicCreatedByBot('Alice (telegram)');
    alice.question = tg.privateMessage(a, { text: 'Where is my order?' }).message!.message_id;
    alice.questionCopy = await botSend(group, 'Where is my order?', alice.topic);
    alice.answer = tg.groupMessage(gina, alice.topic, { text: 'It ships tomorrow' }).message!.message_id;
    alice.answerCopy = await botSend(a.id, 'It ships tomorrow');
    const aliceId = await botUser(a.id, alice.topic, 'telegram');
    alice.row = aliceId;
    await message(aliceId, 'telegram', 'incoming', alice.question, alice.questionCopy, 'Where is my order?');
    const answerRow = await message(
      aliceId,
      'telegram',
      'outgoing',
      alice.answer,
      alice.answerCopy,
      'It ships tomorrow',
      '2026-01-15 12:07:00',
    );
    await q(
      `INSERT INTO message_attachments (message_id, file_id, file_type, file_name) VALUES ($1, 'BQACAgIAAxk-old-file', 'document', 'invoice.pdf')`,
      [answerRow],
    );

    // Bob (Telegram) is banned; Carol (Telegram) closed; Dan never got a topic.
    const b = tg.addUser({ first_name: 'Bob' });
    bob.chat = b.id;
    bob.topic = tg.topicCreatedByBot('Bob (telegram)');
    const bobQuestion = tg.privateMessage(b, { text: 'spam' }).message!.message_id;
    const bobId = await botUser(b.id, bob.topic, 'telegram', {
      is_banned: true,
      banned_at: '2026-01-16 10:00:00',
    });
    await message(
      bobId,
      'telegram',
      'incoming',
      bobQuestion,
      await botSend(group, 'spam', bob.topic),
      'spam',
    );
    const c = tg.addUser({ first_name: 'Carol' });
    carol.chat = c.id;
    carol.topic = tg.topicCreatedByBot('Carol (telegram)');
    await botUser(c.id, carol.topic, 'telegram', { is_closed: true, closed_at: '2026-01-17 10:00:00' });
    danId = await botUser(tg.addUser({ first_name: 'Dan' }).id, null, 'telegram');

    // Vera (VK): her message 77 in the community's dialog, and an answer VK numbered 78.
    const veraTopic = tg.topicCreatedByBot('Vera (vk)');
    const veraId = await botUser(555001, veraTopic, 'vk');
    await message(veraId, 'vk', 'incoming', 77, await botSend(group, 'Привет', veraTopic), 'Привет');
    const veraAnswer = tg.groupMessage(gina, veraTopic, { text: 'Здравствуйте' }).message!.message_id;
    await message(veraId, 'vk', 'outgoing', veraAnswer, 78, 'Здравствуйте', '2026-01-15 12:09:00');

    // The source "Shop" with a webhook and a token; its client cust-42 wrote through the API.
    const shop = (
      await q(
        `INSERT INTO external_sources (name, webhook_url, created_at) VALUES ('Shop', 'https://shop.example.com/hook', '2025-11-01 09:00:00') RETURNING id`,
      )
    ).rows[0].id;
    await q(
      `INSERT INTO external_source_access_tokens (external_source_id, token, active) VALUES ($1, $2, true)`,
      [shop, shopToken],
    );
    inactiveTokenId = String(
      (
        await q(
          `INSERT INTO external_source_access_tokens (external_source_id, token, active) VALUES ($1, $2, false) RETURNING id`,
          [shop, oldToken()],
        )
      ).rows[0].id,
    );
    const cust = (
      await q(`INSERT INTO external_users (external_id, source) VALUES ('cust-42', 'Shop') RETURNING id`)
    ).rows[0].id;
    const custTopic = tg.topicCreatedByBot('cust-42 (Shop)');
    const custId = await botUser(cust, custTopic, 'Shop');
    const asked = await message(
      custId,
      'Shop',
      'incoming',
      1768467900,
      await botSend(group, 'Hi from the site', custTopic),
      null,
    );
    await q(`INSERT INTO external_messages (message_id, text) VALUES ($1, 'Hi from the site')`, [asked]);
    const shopAnswer = tg.groupMessage(gina, custTopic, { text: 'Hello!' }).message!.message_id;
    const answered = await message(
      custId,
      'Shop',
      'outgoing',
      shopAnswer,
      1768468000,
      null,
      '2026-01-15 12:10:00',
    );
    await q(`INSERT INTO external_messages (message_id, text) VALUES ($1, 'Hello!')`, [answered]);

    // What cannot come over: a MAX client, and a message whose client row is gone.
    maxId = await botUser(8_000_001, 4242, 'max');
    const damaged = await newest.pool.connect();
    try {
      await damaged.query('BEGIN');
      await damaged.query('SET LOCAL session_replication_role = replica'); // past the foreign key
      orphanId = String(
        (
          await damaged.query(
            `INSERT INTO messages (bot_user_id, platform, message_type, from_id, to_id, created_at)
             VALUES (999999, 'telegram', 'incoming', 5, 6, now()) RETURNING id`,
          )
        ).rows[0].id,
      );
      await damaged.query('COMMIT');
    } finally {
      damaged.release();
    }

    // The older layout: no texts in messages (the external API's in external_messages), no bans.
    const o = tg.addUser({ first_name: 'Olga' });
    olderUser = { chat: o.id, topic: tg.topicCreatedByBot('Olga (telegram)') };
    const olgaQuestion = tg.privateMessage(o, { text: 'old question' }).message!.message_id;
    const olgaRow = (
      await older.pool.query(
        `INSERT INTO bot_users (chat_id, topic_id, platform, created_at) VALUES ($1, $2, 'telegram', '2025-10-01 08:00:00') RETURNING id`,
        [o.id, olderUser.topic],
      )
    ).rows[0].id;
    await older.pool.query(
      `INSERT INTO messages (bot_user_id, platform, message_type, from_id, to_id, created_at) VALUES ($1, 'telegram', 'incoming', $2, $3, '2025-10-01 08:00:00')`,
      [olgaRow, olgaQuestion, await botSend(group, 'old question', olderUser.topic)],
    );
    tg.clearCalls();
  });

  after(async () => {
    await log?.close();
    await newest?.drop();
    await older?.drop();
    if (reader) await h.db.pool.query(`DROP ROLE IF EXISTS ${reader}`);
    await h?.stop();
  });

  it('--dry-run lists what it would create and every row it cannot map, and writes nothing', async () => {
    const before = await count(h);
    const run = await runImport(newest, '--dry-run');
    assert.match(run.stdout, /telegram +3 to create/);
    assert.match(run.stdout, /vk +1 to create/);
    assert.match(run.stdout, /external +1 to create/);
    assert.match(run.stdout, new RegExp(`bot_users ${danId}: no topic`));
    assert.match(run.stdout, new RegExp(`bot_users ${maxId}: platform max`));
    assert.match(
      run.stdout,
      new RegExp(`messages ${orphanId}: its client, bot_users 999999, does not exist`),
    );
    assert.match(run.stdout, new RegExp(`external_source_access_tokens ${inactiveTokenId}: inactive`));
    assert.match(run.stdout, /shop \(tg-support-bot: Shop\): would be created/);
    assert.equal(await count(h), before, 'a dry run appends nothing');
  });

  it('imports every client with its topic, history, ban and close; reactors leave the imported past alone', async () => {
    const run = await runImport(newest);
    assert.match(run.stdout, /telegram +3 created/);
    assert.match(
      run.stdout,
      /token [0-9a-f]{12} \(external_source_access_tokens \d+\): imported — .*rotate it/,
    );
    assert.match(run.stdout, /webhooks to https:\/\/shop\.example\.com\/hook/);

    const events = await h.events({ conversationId: h.conversationOf(alice.chat) });
    assert.deepEqual(
      events.map((e) => e.type),
      [
        'ConversationStarted',
        'TopicOpened',
        'ClientMessageReceived',
        'ClientMessageForwarded',
        'ManagerReplied',
        'ReplyDelivered',
      ],
    );
    const received = events[2]!;
    assert.equal(
      received.metadata.occurredAt,
      '2026-01-15T09:05:00.000Z',
      "Moscow's 12:05 as the moment it was",
    );
    assert.deepEqual(received.metadata.actor, { kind: 'import', id: 'tg-support-bot' });
    assert.equal((received.metadata.imported as { table: string }).table, 'messages');
    assert.equal(events[1]!.data.topicId, String(alice.topic));
    const replied = events[4]!.data as { attachments: Array<{ fileRef: string; fileName: string }> };
    assert.deepEqual(
      replied.attachments.map((a) => [a.fileRef, a.fileName]),
      [['BQACAgIAAxk-old-file', 'invoice.pdf']],
    );
    const vera = await h.events({ conversationId: conversationIdOf('vk', 'vk', '555001') });
    assert.equal(vera.length, 6);
    assert.equal(
      (await h.events({ conversationId: h.conversationOf(bob.chat) })).at(-1)!.type,
      'ClientBanned',
    );
    assert.equal(
      (await h.events({ conversationId: h.conversationOf(carol.chat) })).at(-1)!.type,
      'ConversationClosed',
    );

    // The reactors have passed the imported events and did nothing for them.
    const head = (
      await h.db.pool.query<{ c: string }>('SELECT max(transaction_id)::text AS c FROM td_events')
    ).rows[0]!.c;
    await waitFor('the telegram reactor past the import', async () => {
      const { rows } = await h.db.pool.query<{ c: string | null }>(
        `SELECT checkpoint_commit::text AS c FROM td_reactors WHERE name = 'telegram'`,
      );
      return rows[0]?.c && BigInt(rows[0].c) >= BigInt(head) ? true : undefined;
    });
    const effects = new Set([
      'sendMessage',
      'copyMessage',
      'copyMessages',
      'sendDocument',
      'createForumTopic',
      'closeForumTopic',
      'reopenForumTopic',
      'editForumTopic',
      'editMessageText',
      'editMessageReplyMarkup',
      'deleteMessage',
    ]);
    assert.deepEqual(
      h.tg.calls.map((c) => c.method).filter((m) => effects.has(m)),
      [],
      'no topic opened, closed or posted to, no message sent',
    );
    const { rows } = await h.db.pool.query('SELECT 1 FROM td_webhook_deliveries');
    assert.equal(rows.length, 0, 'no webhook queued for an imported answer');
  });

  it("a client's new message lands in the old topic; a reply to an old message threads; edits of old messages reach the other side", async () => {
    const update = h.tg.privateMessage(
      { id: alice.chat, is_bot: false, first_name: 'Alice' },
      { text: 'Any news?' },
    );
    assert.equal(await h.send(update), 'recorded');
    const copy = await h.topicCopyOf(alice.chat, update.message!.message_id);
    assert.equal(copy.message_thread_id, alice.topic, 'the old topic');
    assert.equal(h.tg.callsTo('createForumTopic').length, 0);

    const reply = h.tg.groupMessage(
      gina,
      alice.topic,
      { text: 'It left the warehouse' },
      {
        reply_to_message_id: alice.questionCopy,
      },
    );
    assert.equal(await h.send(reply), 'recorded');
    const delivered = await h.clientCopyOf(alice.chat, reply.message!.message_id);
    assert.equal(
      delivered.reply_to_message?.message_id,
      alice.question,
      "threads to the client's own message",
    );

    const own = h.tg.editedPrivateMessage(
      { id: alice.chat, is_bot: false, first_name: 'Alice' },
      alice.question,
      { text: 'Where is my order #42?' },
    );
    assert.equal(await h.send(own), 'recorded');
    await waitFor('the old copy in the topic edited', () =>
      h.tg.message(h.tg.supportChatId, alice.questionCopy)?.text === 'Where is my order #42?'
        ? true
        : undefined,
    );

    const edit = h.tg.editedGroupMessage(gina, alice.answer, { text: 'It ships today' });
    assert.equal(await h.send(edit), 'recorded');
    await waitFor("the client's old copy edited", () =>
      h.tg.message(alice.chat, alice.answerCopy)?.text === 'It ships today' ? true : undefined,
    );
  });

  it('a banned client stays banned', async () => {
    const update = h.tg.privateMessage(
      { id: bob.chat, is_bot: false, first_name: 'Bob' },
      { text: 'let me in' },
    );
    assert.equal(await h.send(update), 'recorded');
    const received = (
      await h.events({ type: 'ClientMessageReceived', conversationId: h.conversationOf(bob.chat) })
    ).at(-1)!;
    assert.equal(received.data.suppressed, true);
    await waitFor(
      'the ban notice',
      async () =>
        (await h.events({ type: 'ClientNotified', conversationId: h.conversationOf(bob.chat) })).length > 0 ||
        undefined,
    );
    assert.equal(h.tg.messagesIn(h.tg.supportChatId, bob.topic).length, 1, 'nothing new in his topic');
  });

  it("the source's old token authenticates and its client's history reads through the API", async () => {
    const api = client(h);
    const page = await waitFor('the token accepted', async () => {
      const res = await api.get<Page>('/api/external/cust-42/messages', { token: shopToken });
      return res.status === 200 ? res.body : undefined;
    });
    assert.deepEqual(
      page.messages.map((m) => [m.direction, m.text]),
      [
        ['incoming', 'Hi from the site'],
        ['outgoing', 'Hello!'],
      ],
    );
    assert.equal((await api.get('/api/external/cust-42/messages', { token: `${shopToken}x` })).status, 401);
  });

  it('history and the audit API show the imported events as imported', async () => {
    const audit = await client(h).get<{ events: Array<{ type: string; actor: unknown; imported: unknown }> }>(
      `/api/admin/conversations/telegram:${alice.chat}/events`,
      { token: ADMIN_TOKEN },
    );
    assert.equal(audit.status, 200);
    const first = audit.body.events[0]!;
    assert.deepEqual(first.actor, { kind: 'import', id: 'tg-support-bot', name: null });
    assert.deepEqual(first.imported, { from: 'tg-support-bot', table: 'bot_users', id: alice.row });
    assert.equal(audit.body.events.at(-1)!.imported, null, 'what happened here is not imported');
    const run = await cli(['history', `telegram:${alice.chat}`], env());
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /import:tg-support-bot +ClientMessageReceived .*\(imported from tg-support-bot messages \d+\)/,
    );
  });

  it('running it again changes nothing', async () => {
    const before = await count(h);
    const run = await runImport(newest);
    assert.match(run.stdout, /telegram +0 created, 0 topped up, 3 unchanged/);
    assert.match(run.stdout, /events appended: none/);
    assert.equal(await count(h), before);
  });

  it("--compat keeps the sources' integrations speaking tg-support-bot's API, with their old tokens", async () => {
    const run = await runImport(newest, '--compat', 'tg-support-bot@6');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /shop.*speaks tg-support-bot@6 \(dates in Europe\/Moscow\)/);
    const api = client(h);
    const list = await waitFor('the dialect in force', async () => {
      const res = await api.get<{
        status?: boolean;
        messages: Array<{ message_type: string; text: string }>;
      }>('/api/external/cust-42/messages', { token: shopToken });
      return res.body.status === true ? res.body : undefined;
    });
    assert.deepEqual(
      list.messages.map((m) => [m.message_type, m.text]),
      [
        ['incoming', 'Hi from the site'],
        ['outgoing', 'Hello!'],
      ],
    );
    const before = await count(h);
    const again = await runImport(newest, '--compat', 'tg-support-bot@6');
    assert.match(again.stdout, /events appended: none/);
    assert.equal(await count(h), before);
    const wrong = await cli(
      ['import:tg-support-bot', '--from', newest.url, '--compat', 'tg-support-bot@2'],
      env(),
    );
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /--compat: "tg-support-bot@2" is not a dialect/);
  });

  it('resumes a conversation an interrupted run left half-written', async () => {
    const plan = planConversation(
      {
        id: '7001',
        chatId: '42000001',
        topicId: '900',
        platform: 'telegram',
        banned: true,
        bannedAt: new Date('2026-02-01T00:00:00Z'),
        closed: false,
        closedAt: null,
        createdAt: new Date('2026-01-01T00:00:00Z'),
        external: null,
      },
      [1, 2, 3].map((n) => ({
        id: String(8000 + n),
        botUserId: '7001',
        direction: 'incoming' as const,
        fromId: String(n),
        toId: String(100 + n),
        text: `m${n}`,
        attachments: [],
        createdAt: new Date(`2026-01-0${n}T00:00:00Z`),
      })),
      { groupChatId: String(h.tg.supportChatId), titleTemplate: '{id}', sourceCodes: new Map() },
    );
    assert.ok(plan.ok);
    const { events, stream } = plan.plan;
    // The crash: only the first events made it.
    await log.append(
      stream,
      events.slice(0, 3).map(({ id, type, data, metadata }) => ({ id, type, data, metadata })),
      'no_stream',
    );
    const resumed = await writeConversation(log, plan.plan, false);
    assert.equal(resumed.outcome, 'topped-up');
    const stored = await log.readStream(stream);
    assert.deepEqual(
      stored.map((e) => e.id),
      events.map((e) => e.id),
      'every planned event once, in order',
    );
    assert.equal((await writeConversation(log, plan.plan, false)).outcome, 'unchanged');
  });

  it('imports the older layout (no texts in messages, no attachments, no ban or close columns)', async () => {
    // A role that may only read the old database is all the import needs.
    reader = `tsb_reader_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(8).toString('hex');
    await older.pool.query(`CREATE ROLE ${reader} LOGIN PASSWORD '${password}'`);
    await older.pool.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${reader}`);
    const readOnly = new URL(older.url);
    readOnly.username = reader;
    readOnly.password = password;
    const run = await runImport(readOnly.toString());
    assert.ok(!run.stdout.includes(password), 'the password is not printed');
    assert.match(run.stdout, /layout: messages\.text no, message_attachments no, bot_users\.is_banned no/);
    assert.match(run.stdout, /telegram +1 created/);
    const update = h.tg.privateMessage(
      { id: olderUser.chat, is_bot: false, first_name: 'Olga' },
      { text: 'hello again' },
    );
    assert.equal(await h.send(update), 'recorded');
    const copy = await h.topicCopyOf(olderUser.chat, update.message!.message_id);
    assert.equal(copy.message_thread_id, olderUser.topic);
  });
});
