// No secret in logs or answers. Each way an error can carry one is forced against the stand-ins —
// grammY's HttpError holds the Bot API URL with the bot token in it, request headers carry bearer
// tokens, URLs carry whatever a client puts in them, a receiver's answer is recorded as it came —
// and every log line the app wrote, every answer and every CLI output is searched for the secrets.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { conversationIdOf } from '../../src/adapters/ids.ts';
import { authenticate, createSource } from '../../src/adapters/sources/sources.ts';
import { vkConversationId } from '../../src/adapters/vk/refs.ts';
import { telegramStandInEnv } from '../support/app-env.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import { type AppProcess, startAppProcess } from '../support/app-process.ts';
import { cli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.ts';
import { fakeJpeg } from '../support/vk-stand-in.ts';
import { startVkHarness, type VkHarness } from '../support/vk-stand-in-harness.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { apiEnv, client, newSource } from './api-helpers.ts';

type Secrets = Readonly<Record<string, string>>;

/** Bytes logged as JSON (`{"type":"Buffer","data":[71,69,84…]}`) spelled out, so a search sees them. */
const readable = (text: string) =>
  text.replace(/\{"type":"Buffer","data":\[([\d,]*)\]\}/g, (_, bytes: string) =>
    Buffer.from(bytes.split(',').map(Number)).toString('latin1'),
  );

/** Each text that carries one of the secrets, with the secret's name (none: an empty list). */
const leaks = (texts: readonly string[], secrets: Secrets): string[] =>
  texts.map(readable).flatMap((text) =>
    Object.entries(secrets)
      .filter(([, value]) => value !== '' && text.includes(value))
      .map(([name]) => `${name} in: ${text.slice(0, 600)}`),
  );

/** The bot token (whole, and the part after the bot id) and the Telegram webhook secret. */
const telegramSecrets = (tg: TelegramStandIn, webhookSecret = WEBHOOK_SECRET): Secrets => ({
  'the bot token': tg.token,
  "the bot token's secret part": tg.token.slice(tg.token.indexOf(':') + 1),
  TELEGRAM_WEBHOOK_SECRET: webhookSecret,
});

const databasePassword = (url: string) => decodeURIComponent(new URL(url).password);

/** The captured lines whose message is `msg`. */
const logged = (lines: readonly string[], msg: string) =>
  lines.map((l) => JSON.parse(l) as { msg?: string; level: number }).filter((l) => l.msg === msg);

describe('no secret in logs or answers', () => {
  describe('Telegram long polling (TELEGRAM_MODE=polling)', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ TELEGRAM_MODE: 'polling' }, { captureLogs: 'info' });
    });
    after(async () => {
      await h.stop();
    });

    it('getUpdates failing (a 502 page, a reset connection) is logged without the bot token', async () => {
      const user = h.tg.addUser({ first_name: 'Polly' });
      h.tg.failNext('getUpdates', 'bad-gateway');
      h.tg.failNext('getUpdates', 'reset');
      // Answers the long poll in progress: the next two calls meet the faults.
      const first = h.tg.privateMessage(user, { text: 'before the faults' });
      h.tg.queueUpdate(first);
      await waitFor('two getUpdates failures logged', () =>
        logged(h.logLines, 'getUpdates failed; retrying').length >= 2 ? true : undefined,
      );
      const next = h.tg.privateMessage(user, { text: 'after the faults' });
      h.tg.queueUpdate(next);
      assert.equal((await h.topicCopyOf(user.id, next.message!.message_id)).text, 'after the faults');
      assert.deepEqual(leaks(h.logLines, telegramSecrets(h.tg)), []);
    });
  });

  describe('the external API', () => {
    let h: Harness;
    let secrets: Secrets;
    let api: ReturnType<typeof client>;
    before(async () => {
      h = await startHarness(apiEnv(), { captureLogs: 'trace' });
      const site = await newSource(h, 'shop');
      api = client(h, site);
      secrets = {
        ...telegramSecrets(h.tg),
        'the source token': site.token,
        "the source token's secret part": site.token.slice(`td_${site.tokenId}_`.length),
      };
    });
    after(async () => {
      await h.stop();
    });

    it("an API request's Authorization header is in no log line, at debug and trace level", async () => {
      const mark = h.logLines.length;
      const json = await api.post('/api/external/buyer-1/messages', { json: { text: 'hello' } });
      assert.equal(json.status, 201, JSON.stringify(json.body));
      const form = new FormData();
      form.append('text', 'the invoice');
      form.append('files', new Blob(['%PDF invoice']), 'invoice.pdf');
      const multipart = await api.post('/api/external/buyer-1/messages', { form });
      assert.equal(multipart.status, 201, JSON.stringify(multipart.body));
      assert.equal((await api.get('/api/external/buyer-1/messages')).status, 200);
      const lines = h.logLines.slice(mark);
      assert.equal(logged(lines, 'request').length, 3, 'each request is logged at debug level');
      assert.ok(
        lines.some((l) => (JSON.parse(l) as { level: number }).level === 10),
        'something is logged at trace level',
      );
      assert.deepEqual(leaks(lines, secrets), []);
    });

    it('a token a client puts in the URL is in no log line, and no error answer echoes it', async () => {
      const token = secrets['the source token']!;
      const mark = h.logLines.length;
      const answers: string[] = [];
      for (const path of [
        `/api/externals/buyer-1/messages?token=${token}`,
        `/api/external/buyer-1/messages?access_token=${token}`,
        `/api/external/${token}/nothing-here`,
      ]) {
        const res = await api.get(path, { token: null });
        assert.ok(res.status === 401 || res.status === 404, `${path}: ${res.status}`);
        answers.push(JSON.stringify(res.body));
      }
      const lines = h.logLines.slice(mark);
      assert.equal(logged(lines, 'request').length, 3);
      assert.deepEqual(leaks([...answers, ...lines], secrets), []);
    });

    it('a malformed request carrying a token: the bytes Node hands to the error are not logged', async () => {
      const mark = h.logLines.length;
      const { port } = new URL(h.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            `GET /api/external/buyer-1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${secrets['the source token']}\r\nno colon here\r\n\r\n`,
          );
        });
        let got = '';
        socket.on('data', (d) => {
          got += d.toString();
        });
        socket.on('close', () => resolve(got));
        socket.on('error', reject);
      });
      assert.match(answer, /^HTTP\/1\.1 400 Bad Request/);
      const lines = await waitFor('the client error logged', () => {
        const found = h.logLines.slice(mark);
        return logged(found, 'client error').length > 0 ? found : undefined;
      });
      assert.deepEqual(leaks(lines, secrets), []);
    });

    it('getFile failing behind GET /files/{id} (a reset, a 502 page): 503, the bot token nowhere', async () => {
      const form = new FormData();
      form.append('files', new Blob(['the receipt']), 'receipt.txt');
      const sent = await api.post<{ attachments: Array<{ id: string }> }>('/api/external/buyer-2/messages', {
        form,
      });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      const file = `/api/external/files/${sent.body.attachments[0]!.id}`;
      const mark = h.logLines.length;
      const answers: string[] = [];
      for (const fault of ['reset', 'bad-gateway'] as const) {
        h.tg.failNext('getFile', fault);
        const res = await api.get(file);
        assert.equal(res.status, 503, `${fault}: ${JSON.stringify(res.body)}`);
        answers.push(JSON.stringify(res.body));
      }
      const ok = await api.get(file);
      assert.deepEqual([ok.status, ok.body], [200, 'the receipt'], 'served once Telegram answers again');
      const lines = h.logLines.slice(mark);
      assert.equal(logged(lines, 'external api: a file download from Telegram failed').length, 2);
      assert.deepEqual(leaks([...answers, ...lines], secrets), []);
    });
  });

  describe('the reactors', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({}, { captureLogs: 'info' });
    });
    after(async () => {
      await h.stop();
    });

    it('Telegram unreachable while a client message must be copied: retried, the bot token nowhere', async () => {
      const user = h.tg.addUser({ first_name: 'Rita' });
      h.tg.failNext('createForumTopic', 'reset');
      h.tg.failNext('copyMessage', 'bad-gateway');
      h.tg.failNext('copyMessage', 'reset');
      const update = h.tg.privateMessage(user, { text: 'is anyone there?' });
      await h.send(update);
      assert.equal((await h.topicCopyOf(user.id, update.message!.message_id)).text, 'is anyone there?');
      assert.ok(logged(h.logLines, 'telegram call retried').length >= 3);
      assert.deepEqual(leaks(h.logLines, telegramSecrets(h.tg)), []);
    });
  });

  describe('VK', () => {
    let h: VkHarness;
    let secrets: Secrets;
    before(async () => {
      h = await startVkHarness({ captureLogs: 'info' });
      secrets = {
        ...telegramSecrets(h.tg),
        VK_TOKEN: h.vk.token,
        VK_SECRET: h.vk.secret,
      };
    });
    after(async () => {
      await h.stop();
    });

    it('VK API, upload server and Telegram failures: no token or signature logged or recorded', async () => {
      const user = h.vk.addUser({ first_name: 'Vera', last_name: 'Failova' });
      h.vk.failNext('users.get', 'reset');
      const res = await h.postEvent(
        h.vk.messageNew(user, {
          text: 'my photo',
          attachments: [h.vk.attachments.photo(user, fakeJpeg('v'))],
        }),
      );
      assert.equal(res.status, 200, res.body);
      const stream = `conversation-${vkConversationId(user.id)}`;
      const topicId = await waitFor('the topic', async () => {
        const { rows } = await h.db.pool.query<{ topic: string }>(
          `SELECT data->>'topicId' AS topic FROM td_events WHERE stream = $1 AND type = 'TopicOpened'`,
          [stream],
        );
        return rows[0] ? Number(rows[0].topic) : undefined;
      });

      // A manager answers with a photo: Telegram's getFile fails once, then VK's upload server (its
      // address carries the upload's signature), then messages.send.
      h.tg.failNext('getFile', 'reset');
      h.vk.failNext('upload:photo', 'reset');
      h.vk.failNext('messages.send', 'reset');
      const manager = h.tg.addManager({ first_name: 'Alice' });
      const answer = h.tg.groupMessage(manager, topicId, {
        photo: { data: 'manager-photo' },
        caption: 'the label',
      });
      assert.equal((await h.postUpdate(answer)).status, 200);
      await waitFor(
        'the photo in VK',
        () => h.vk.sentTo(user.id).find((m) => m.text === 'the label'),
        20_000,
      );
      const { rows } = await h.db.pool.query<{ reason: string }>(
        `SELECT data->>'reason' AS reason FROM td_events WHERE stream = $1 AND type = 'DeliveryFailed'`,
        [stream],
      );
      assert.equal(rows.length, 3, `each failure recorded: ${JSON.stringify(rows)}`);
      assert.ok(rows.some((r) => r.reason.startsWith('VK upload server:')));
      assert.ok(
        logged(h.logLines, 'vk users.get failed; the contact card shows the profile link only').length,
      );
      assert.equal(logged(h.logLines, 'vk delivery failed; retrying').length, 3);
      const signatures = h.vk.callsTo('upload:photo').map((c) => c.params.sig!);
      assert.ok(signatures.length >= 2, 'the upload was tried again');
      assert.deepEqual(
        leaks([...h.logLines, ...rows.map((r) => r.reason)], {
          ...secrets,
          ...Object.fromEntries(signatures.map((sig, i) => [`upload ${i + 1}'s signature`, sig])),
        }),
        [],
        'nor in the reasons recorded',
      );
    });
  });

  describe("a source's webhook", () => {
    let h: Harness;
    let receiver: WebhookReceiver;
    before(async () => {
      h = await startHarness(apiEnv({ WEBHOOK_RETRY_INITIAL_MS: '100', WEBHOOK_TIMEOUT_MS: '2000' }), {
        captureLogs: 'info',
      });
      receiver = await startWebhookReceiver();
    });
    after(async () => {
      await h.stop();
      await receiver.close();
    });

    it('a receiver whose refusal quotes the webhook secret and the token: neither logged nor recorded', async () => {
      const source = await createSource(h.app.log, 'echo', await receiver.hook('/hooks/echo'));
      receiver.on('/hooks/echo', (n) =>
        n === 1
          ? {
              status: 401,
              body: `signature mismatch: expected HMAC-SHA256 with ${source.webhookSecret} (token ${source.token})`,
            }
          : 200,
      );
      const conversationId = conversationIdOf('external', 'echo', 'cust-1');
      const site = { code: 'echo', token: source.token, tokenId: source.tokenId };
      await waitFor('the token accepted', async () =>
        (await authenticate(h.app.db.pool, source.token)) ? true : undefined,
      );
      const sent = await client(h, site).post('/api/external/cust-1/messages', { json: { text: 'hi' } });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      const topic = await waitFor('the topic', () => h.tg.topics().find((t) => t.name.includes('cust-1')));
      const manager = h.tg.addManager({ first_name: 'Bob' });
      await h.send(h.tg.groupMessage(manager, topic.message_thread_id, { text: 'hello there' }));
      await waitFor('delivered on the second attempt', () =>
        receiver.at('/hooks/echo').some((r) => r.ok) ? true : undefined,
      );
      const failed = await waitFor('the failure recorded', async () => {
        const events = await h.events({ type: 'DeliveryFailed', conversationId });
        return events.length > 0 ? events : undefined;
      });
      const reason = String(failed[0]!.data.reason);
      // Only the status is recorded (what a receiver answers never is); the log says no more either.
      assert.equal(reason, 'HTTP 401', 'the refusal is recorded by its status');
      assert.ok(logged(h.logLines, 'webhook delivery failed; will retry').length >= 1);
      assert.deepEqual(
        leaks([...h.logLines, reason], {
          'the webhook secret': source.webhookSecret,
          'the source token': source.token,
        }),
        [],
      );
    });
  });

  describe('/readyz', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({}, { captureLogs: 'info' });
    });
    after(async () => {
      await h.stop();
    });

    it("says which check failed, not the dependency's error; the error goes to the log", async () => {
      const name = new URL(h.db.url).pathname.slice(1);
      const admin = new pg.Client(h.db.url.replace(`/${name}`, '/postgres'));
      await admin.connect();
      try {
        await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [
          name,
        ]);
        const res = await fetch(`${h.url}/readyz`);
        const text = await res.text();
        assert.equal(res.status, 503);
        assert.deepEqual(JSON.parse(text), {
          status: 'unavailable',
          checks: { eventLog: 'failed', database: 'failed' },
        });
        const failures = logged(h.logLines, 'readiness check failed');
        assert.equal(failures.length, 2, 'each failed check is logged');
        // The cause as PostgreSQL gave it: a new connection refused, or (when the check ran on a pooled
        // connection before the pool saw it end) the termination itself.
        assert.match(
          JSON.stringify(failures),
          /ALLOW_CONNECTIONS|not currently accepting connections|terminating connection due to administrator command/,
        );
        assert.deepEqual(
          leaks([text, ...h.logLines], {
            ...telegramSecrets(h.tg),
            'the database password': databasePassword(h.db.url),
          }),
          [],
        );
      } finally {
        await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
        await admin.end();
      }
      await waitFor('ready again', async () =>
        (await fetch(`${h.url}/readyz`)).status === 200 ? true : undefined,
      );
    });
  });

  describe('the telegram:* commands', () => {
    let tg: TelegramStandIn;
    const secret = 'cli_webhook_secret_42';
    const env = () => ({
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_SUPPORT_CHAT_ID: String(tg.supportChatId),
      TELEGRAM_WEBHOOK_SECRET: secret,
      PUBLIC_URL: 'http://127.0.0.1:8443',
    });
    before(async () => {
      tg = await startTelegramStandIn();
    });
    after(async () => {
      await tg.close();
    });

    it('print why the Bot API could not be reached without the bot token', async () => {
      const outputs: string[] = [];
      tg.failNext('getMe', 'reset');
      const check = await cli(['telegram:check'], env());
      assert.equal(check.code, 1);
      assert.match(
        check.stdout,
        /✖ bot token: not checked, cannot reach the Bot API at http:\/\/127\.0\.0\.1/,
      );
      tg.failNext('setWebhook', 'bad-gateway');
      const set = await cli(['telegram:set-webhook'], env());
      assert.equal(set.code, 1);
      assert.match(set.stderr, /^topicdesk: Telegram did not set the webhook: cannot reach the Bot API/);
      tg.failNext('deleteWebhook', 'reset');
      const del = await cli(['telegram:delete-webhook'], env());
      assert.equal(del.code, 1);
      for (const run of [check, set, del]) outputs.push(run.stdout, run.stderr);
      assert.deepEqual(leaks(outputs, telegramSecrets(tg, secret)), []);
    });
  });

  describe('npm start (the app in a child process)', () => {
    let db: TestDatabase;
    let tg: TelegramStandIn;
    let app: AppProcess | undefined;
    before(async () => {
      db = await createTestDatabase({ migrate: false });
      tg = await startTelegramStandIn();
    });
    after(async () => {
      await app?.stop();
      await tg.close();
      await db.drop();
    });

    it('logs a failing getUpdates without the bot token', async () => {
      app = await startAppProcess({
        name: 'polling',
        env: {
          DATABASE_URL: db.url,
          ...telegramStandInEnv(tg, WEBHOOK_SECRET),
          TELEGRAM_MODE: 'polling',
          LOG_LEVEL: 'debug',
        },
      });
      const user = tg.addUser({ first_name: 'Paul' });
      tg.failNext('getUpdates', 'reset');
      tg.queueUpdate(tg.privateMessage(user, { text: 'hello' }));
      await waitFor('the failure logged', () =>
        app!.logs().includes('getUpdates failed') ? true : undefined,
      );
      assert.deepEqual(
        leaks(app.logs(Number.POSITIVE_INFINITY).split('\n'), {
          ...telegramSecrets(tg),
          'the database password': databasePassword(db.url),
        }),
        [],
      );
    });
  });
});
