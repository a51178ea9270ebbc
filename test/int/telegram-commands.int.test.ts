// telegram:check, telegram:set-webhook and telegram:delete-webhook run as `npx topicdesk` runs them: the
// CLI in a child process, configured by the environment only (no DATABASE_URL), talking to the Bot API
// stand-in.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cli, type CliRun as Run } from '../support/cli.ts';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.ts';

const SECRET = 'cli_test_secret_42';

const envFor = (tg: TelegramStandIn, extra: Record<string, string> = {}) => ({
  TELEGRAM_API_ROOT: tg.apiRoot,
  TELEGRAM_BOT_TOKEN: tg.token,
  TELEGRAM_SUPPORT_CHAT_ID: String(tg.supportChatId),
  TELEGRAM_WEBHOOK_SECRET: SECRET,
  ...extra,
});

const lineStarting = (run: Run, prefix: string): string => {
  const found = run.lines.find((l) => l.startsWith(prefix));
  assert.ok(found, `no line starting with "${prefix}" in:\n${run.stdout}${run.stderr}`);
  return found;
};

describe('telegram commands (CLI, Bot API stand-in, no database)', () => {
  let tg: TelegramStandIn;
  before(async () => {
    tg = await startTelegramStandIn();
  });
  after(async () => {
    await tg.close();
  });

  it('set-webhook registers PUBLIC_URL/webhooks/telegram with the secret and the update types', async () => {
    const user = tg.addUser({ first_name: 'Old' });
    tg.queueUpdate(tg.privateMessage(user, { text: 'waiting since yesterday' }));
    assert.equal(tg.pendingUpdates().length, 1);

    const run = await cli(
      ['telegram:set-webhook', '--drop-pending'],
      envFor(tg, { PUBLIC_URL: 'http://127.0.0.1:8443/support/' }),
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.lines[0], '✔ webhook set: http://127.0.0.1:8443/support/webhooks/telegram');
    assert.match(lineStarting(run, '  secret token:'), /TELEGRAM_WEBHOOK_SECRET \(18 characters\)/);
    assert.ok(!run.stdout.includes(SECRET), 'the secret itself is never printed');
    assert.equal(
      lineStarting(run, '  allowed updates:'),
      '  allowed updates: message, edited_message, callback_query',
    );
    assert.equal(lineStarting(run, '  pending updates:'), '  pending updates: dropped');

    assert.deepEqual(tg.webhookInfo(), {
      url: 'http://127.0.0.1:8443/support/webhooks/telegram',
      secret_token: SECRET,
      allowed_updates: ['message', 'edited_message', 'callback_query'],
    });
    assert.equal(tg.pendingUpdates().length, 0, '--drop-pending dropped the waiting update');
    const [call] = tg.callsTo('setWebhook');
    assert.equal(call?.params.drop_pending_updates, true);
  });

  it('check passes on a good setup: one ✔ line per check, exit code 0', async () => {
    const run = await cli(['telegram:check'], envFor(tg, { PUBLIC_URL: 'http://127.0.0.1:8443/support' }));
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual(run.lines, [
      `✔ bot token: valid, the bot is @${tg.botInfo.username} (id ${tg.botInfo.id})`,
      `✔ support group: "Support" (${tg.supportChatId}) is a forum (Topics on)`,
      '✔ bot rights: administrator with Manage topics',
      '✔ privacy mode: off, the bot receives every message in the group',
      '✔ webhook: http://127.0.0.1:8443/support/webhooks/telegram (0 pending updates)',
      'all required checks passed',
    ]);
    assert.equal(run.stderr, '');
  });

  it('check fails when the webhook points elsewhere, and reports Telegram’s last delivery error', async () => {
    // The webhook set above cannot be reached: delivering to it records an error, as Telegram does.
    const user = tg.addUser({ first_name: 'Ann' });
    await tg.deliver(tg.privateMessage(user, { text: 'hi' })).catch(() => undefined);
    const run = await cli(['telegram:check'], envFor(tg, { PUBLIC_URL: 'https://support.example.com' }));
    assert.equal(run.code, 1);
    assert.equal(
      lineStarting(run, '✖ webhook:'),
      '✖ webhook: set to http://127.0.0.1:8443/support/webhooks/telegram, not https://support.example.com/webhooks/telegram (PUBLIC_URL); run `npx topicdesk telegram:set-webhook` (0 pending updates)',
    );
    assert.match(
      lineStarting(run, "⚠ webhook: Telegram's last delivery error"),
      /Connection refused|Wrong response/,
    );
    assert.equal(run.lines.at(-1), '1 required check failed');
  });

  it('check fails when the bot may not manage topics, and warns about Delete messages', async () => {
    tg.setBotRights({ can_manage_topics: false, can_delete_messages: false });
    try {
      const run = await cli(['telegram:check'], envFor(tg));
      assert.equal(run.code, 1);
      assert.match(lineStarting(run, '✖ bot rights:'), /administrator without Manage topics/);
      assert.match(lineStarting(run, '⚠ bot rights:'), /no Delete messages/);
      assert.equal(lineStarting(run, '✔ bot token:').length > 0, true);
      assert.equal(run.lines.at(-1), '1 required check failed');

      tg.setBotRights({ status: 'member' });
      const member = await cli(['telegram:check'], envFor(tg));
      assert.equal(member.code, 1);
      assert.equal(
        lineStarting(member, '✖ bot rights:'),
        '✖ bot rights: the bot is not an administrator (status: member); promote it with Manage topics and Delete messages',
      );
    } finally {
      tg.setBotRights({ status: 'administrator', can_manage_topics: true, can_delete_messages: true });
    }
  });

  it('check fails on a wrong token and stops there', async () => {
    const run = await cli(
      ['telegram:check'],
      envFor(tg, { TELEGRAM_BOT_TOKEN: `${tg.botInfo.id}:AAH-not-the-right-token-at-all` }),
    );
    assert.equal(run.code, 1);
    assert.deepEqual(run.lines, [
      '✖ bot token: Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized); copy it again from @BotFather (/token)',
      '1 required check failed',
    ]);
  });

  it('set-webhook without PUBLIC_URL prints one clear line, exits 2 and calls nothing', async () => {
    tg.clearCalls();
    const run = await cli(['telegram:set-webhook'], envFor(tg));
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      'topicdesk: configuration error: PUBLIC_URL is not set: telegram:set-webhook needs the https address Telegram reaches this service at, e.g. PUBLIC_URL=https://support.example.com (or run with TELEGRAM_MODE=polling)\n',
    );
    assert.equal(tg.calls.length, 0);
  });

  it('set-webhook refuses an http:// PUBLIC_URL or a port Telegram does not deliver to, against api.telegram.org', async () => {
    // Both fail before any call, so the real Bot API is never contacted.
    const http = await cli(
      ['telegram:set-webhook'],
      envFor(tg, { TELEGRAM_API_ROOT: 'https://api.telegram.org', PUBLIC_URL: 'http://support.example.com' }),
    );
    assert.equal(http.code, 2);
    assert.equal(
      http.stderr,
      'topicdesk: configuration error: PUBLIC_URL must be an https:// address: Telegram delivers webhooks over HTTPS only (got "http://support.example.com")\n',
    );
    const port = await cli(
      ['telegram:set-webhook'],
      envFor(tg, {
        TELEGRAM_API_ROOT: 'https://api.telegram.org',
        PUBLIC_URL: 'https://support.example.com:3000',
      }),
    );
    assert.equal(port.code, 2);
    assert.match(
      port.stderr,
      /^topicdesk: configuration error: PUBLIC_URL must use port 443, 80, 88 or 8443/,
    );
  });

  it('set-webhook without a secret (polling mode) names TELEGRAM_WEBHOOK_SECRET', async () => {
    const run = await cli(
      ['telegram:set-webhook'],
      envFor(tg, {
        TELEGRAM_MODE: 'polling',
        TELEGRAM_WEBHOOK_SECRET: '',
        PUBLIC_URL: 'http://127.0.0.1:8443',
      }),
    );
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^topicdesk: configuration error: TELEGRAM_WEBHOOK_SECRET is not set/);
  });

  it('delete-webhook removes the webhook; check then warns that none is set', async () => {
    const run = await cli(['telegram:delete-webhook'], envFor(tg));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.lines[0], '✔ webhook deleted (was http://127.0.0.1:8443/support/webhooks/telegram)');
    assert.equal(tg.webhookInfo(), undefined);

    const check = await cli(['telegram:check'], envFor(tg, { PUBLIC_URL: 'http://127.0.0.1:8443' }));
    assert.equal(check.code, 0, 'a webhook not set yet is a warning, not a failure');
    assert.equal(
      lineStarting(check, '⚠ webhook:'),
      '⚠ webhook: not set yet; run `npx topicdesk telegram:set-webhook` (0 pending updates)',
    );
  });

  it('check without a token fails with one line', async () => {
    const run = await cli(['telegram:check'], envFor(tg, { TELEGRAM_BOT_TOKEN: '' }));
    assert.equal(run.code, 1);
    assert.deepEqual(run.lines, [
      '✖ bot token: TELEGRAM_BOT_TOKEN is not set; put the token @BotFather gave you in it',
      '1 required check failed',
    ]);
  });
});

describe('telegram:check on a group without Topics and a bot in privacy mode', () => {
  let tg: TelegramStandIn;
  before(async () => {
    tg = await startTelegramStandIn({ supportChatIsForum: false, botCanReadAllGroupMessages: false });
  });
  after(async () => {
    await tg.close();
  });

  it('fails the forum check; privacy mode is fine for an administrator', async () => {
    const run = await cli(['telegram:check'], envFor(tg, { TELEGRAM_MODE: 'polling' }));
    assert.equal(run.code, 1);
    assert.deepEqual(run.lines, [
      `✔ bot token: valid, the bot is @${tg.botInfo.username} (id ${tg.botInfo.id})`,
      `✖ support group: "Support" (${tg.supportChatId}) is not a forum; enable Topics in the group's settings (Edit → Topics)`,
      '✔ bot rights: administrator with Manage topics',
      '✔ privacy mode: on, which is fine: as an administrator the bot still receives every message in the group',
      '✔ webhook: none, as TELEGRAM_MODE=polling wants (0 pending updates)',
      '1 required check failed',
    ]);
  });

  it('fails privacy mode too when the bot is only a member', async () => {
    tg.setBotRights({ status: 'member' });
    const run = await cli(['telegram:check'], envFor(tg, { TELEGRAM_MODE: 'polling' }));
    assert.equal(run.code, 1);
    assert.match(lineStarting(run, '✖ privacy mode:'), /only sees commands and replies to it in the group/);
    assert.equal(run.lines.at(-1), '3 required checks failed');
  });
});
