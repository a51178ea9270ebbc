import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { channelStatus, legacyEnvNotices, loadConfig } from '../../src/app/config.ts';
import { configuredSecrets } from '../../src/app/config-secrets.ts';

const telegram = {
  TELEGRAM_BOT_TOKEN: '123456:ABCdefGHIjklMNOpqrSTUvwx',
  TELEGRAM_SUPPORT_CHAT_ID: '-1001234567890',
  TELEGRAM_WEBHOOK_SECRET: 'secret_1',
};

describe('configuration', () => {
  it('starts on defaults with nothing set: embedded PostgreSQL, PostgreSQL log, port 3000', () => {
    const c = loadConfig({});
    assert.equal(c.PORT, 3000);
    assert.equal(c.EVENT_STORE, 'postgres');
    assert.equal(c.DATABASE_URL, undefined);
    assert.deepEqual(
      channelStatus(c)
        .filter((s) => !s.configured)
        .map((s) => s.channel),
      ['telegram', 'vk', 'admin'],
    );
  });

  it('names the variable and the value in one line when a value is wrong', () => {
    assert.throws(() => loadConfig({ PORT: 'eighty' }), /^ConfigError: PORT .*got "eighty"/);
    assert.throws(
      () => loadConfig({ EVENT_STORE: 'mysql' }),
      (e: Error) => {
        assert.match(e.message, /^EVENT_STORE must be postgres or esdb \(got "mysql"\)$/);
        assert.equal(e.message.includes('\n'), false);
        return true;
      },
    );
    assert.throws(
      () => loadConfig({ ...telegram, TELEGRAM_SUPPORT_CHAT_ID: '12345' }),
      /^ConfigError: TELEGRAM_SUPPORT_CHAT_ID must be the support supergroup id/,
    );
  });

  it('reminders and the digest: off unless set, the repeat defaults to the wait, a zone must exist', () => {
    const off = loadConfig({});
    assert.deepEqual(
      [
        off.REMIND_AFTER_MINUTES,
        off.REMIND_REPEAT_MINUTES,
        off.REMIND_MAX,
        off.DIGEST_HOUR,
        off.DIGEST_TIME_ZONE,
      ],
      [undefined, undefined, 3, undefined, 'UTC'],
    );
    const on = loadConfig({
      REMIND_AFTER_MINUTES: '30',
      DIGEST_HOUR: '0',
      DIGEST_TIME_ZONE: 'Europe/Berlin',
    });
    assert.deepEqual(
      [on.REMIND_AFTER_MINUTES, on.DIGEST_HOUR, on.DIGEST_TIME_ZONE],
      [30, 0, 'Europe/Berlin'],
    );
    assert.throws(
      () => loadConfig({ REMIND_REPEAT_MINUTES: '10' }),
      /^ConfigError: REMIND_REPEAT_MINUTES is set without REMIND_AFTER_MINUTES/,
    );
    assert.throws(
      () => loadConfig({ REMIND_AFTER_MINUTES: '0' }),
      /^ConfigError: REMIND_AFTER_MINUTES must be at least 1/,
    );
    assert.throws(() => loadConfig({ DIGEST_HOUR: '24' }), /^ConfigError: DIGEST_HOUR /);
    assert.throws(
      () => loadConfig({ DIGEST_TIME_ZONE: 'Mars/Olympus' }),
      /^ConfigError: DIGEST_TIME_ZONE must be an IANA time zone/,
    );
  });

  it('bounds requests: the time to send one, uploads and long polls in progress', () => {
    const c = loadConfig({});
    assert.deepEqual(
      [c.HTTP_REQUEST_TIMEOUT_MS, c.API_MAX_UPLOADS_PER_TOKEN, c.API_MAX_UPLOADS],
      [120_000, 4, 8],
    );
    assert.deepEqual([c.API_MAX_LONG_POLLS_PER_TOKEN, c.API_MAX_LONG_POLLS], [4, 100]);
    assert.throws(
      () => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '500' }),
      /^ConfigError: HTTP_REQUEST_TIMEOUT_MS must be at least 1000 ms \(got "500"\)$/,
    );
    assert.throws(
      () => loadConfig({ API_MAX_UPLOADS: '0' }),
      /^ConfigError: API_MAX_UPLOADS must be at least 1 \(got "0"\)$/,
    );
    assert.throws(
      () => loadConfig({ API_MAX_LONG_POLLS_PER_TOKEN: 'many' }),
      /^ConfigError: API_MAX_LONG_POLLS_PER_TOKEN must be a number of requests \(got "many"\)$/,
    );
  });

  it('texts in English, no welcome and settings read every 2 s unless told otherwise; a wrong one named', () => {
    const c = loadConfig({});
    assert.deepEqual([c.LOCALE, c.WELCOME, c.SETTINGS_REFRESH_MS], ['en', 'off', 2000]);
    assert.equal(loadConfig({ LOCALE: 'ru', WELCOME: 'on' }).LOCALE, 'ru');
    assert.throws(
      () => loadConfig({ LOCALE: 'de' }),
      /^ConfigError: LOCALE must be en or ru \(the languages topicdesk ships\) \(got "de"\)$/,
    );
    assert.throws(
      () => loadConfig({ WELCOME: 'yes' }),
      /^ConfigError: WELCOME must be on or off \(got "yes"\)$/,
    );
    assert.throws(
      () => loadConfig({ SETTINGS_REFRESH_MS: '120000' }),
      /^ConfigError: SETTINGS_REFRESH_MS must be at most 60000 \(got "120000"\)$/,
    );
  });

  it('names a variable that is missing because another one needs it', () => {
    assert.throws(
      () => loadConfig({ EVENT_STORE: 'esdb' }),
      /EVENTSTORE_URL is required when EVENT_STORE=esdb \(it is not set\)/,
    );
    assert.throws(
      () => loadConfig({ TELEGRAM_BOT_TOKEN: telegram.TELEGRAM_BOT_TOKEN }),
      /TELEGRAM_SUPPORT_CHAT_ID is required with TELEGRAM_BOT_TOKEN/,
    );
    assert.throws(
      () => loadConfig({ ...telegram, TELEGRAM_WEBHOOK_SECRET: '' }),
      /TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_MODE=webhook/,
    );
  });

  it("refuses the owner's database URL without the service's, without printing its password", () => {
    assert.throws(
      () => loadConfig({ DATABASE_OWNER_URL: 'postgres://owner:s3cret-pass@db:5432/topicdesk' }),
      (e: Error) => {
        assert.match(
          e.message,
          /^DATABASE_OWNER_URL is set without DATABASE_URL: set DATABASE_URL to the role/,
        );
        assert.equal(e.message.includes('s3cret-pass'), false);
        return true;
      },
    );
    const both = loadConfig({
      DATABASE_URL: 'postgres://app:a@db:5432/topicdesk',
      DATABASE_OWNER_URL: 'postgres://owner:o@db:5432/topicdesk',
    });
    assert.equal(both.DATABASE_OWNER_URL, 'postgres://owner:o@db:5432/topicdesk');
  });

  it('does not print secrets it refuses', () => {
    assert.throws(
      () => loadConfig({ ...telegram, TELEGRAM_BOT_TOKEN: 'not-a-token-at-all-really' }),
      (e: Error) => {
        assert.equal(e.message.includes('not-a-token-at-all-really'), false);
        return true;
      },
    );
  });

  it('does not print a short secret it refuses, nor the password of a URL it refuses', () => {
    assert.throws(
      () => loadConfig({ ADMIN_TOKEN: 'hunter2' }),
      (e: Error) => {
        assert.equal(e.message, 'ADMIN_TOKEN must be at least 16 characters (got 7 characters)');
        return true;
      },
    );
    assert.throws(
      () => loadConfig({ EVENT_STORE: 'esdb', EVENTSTORE_URL: 'http://admin:changeit-2024@es:2113' }),
      (e: Error) => {
        assert.equal(
          e.message,
          'EVENTSTORE_URL must be a connection string the client accepts, esdb://host:2113?tls=false or esdb+discover://host:2113 (expected esdb:// or esdb+discover:// at character 1) (got "http://admin:[redacted]@es:2113")',
        );
        return true;
      },
    );
  });

  it('lists the secrets of a configuration, for the logs to leave out', () => {
    const c = loadConfig({
      ...telegram,
      ADMIN_TOKEN: 'admin-token-0123456789',
      DATABASE_URL: 'postgres://u:p%40ss-word@db:5432/topicdesk',
      VK_TOKEN: 'vk1.a.community-token',
      VK_GROUP_ID: '1',
      VK_CONFIRMATION: 'abc123',
      VK_SECRET: 'vk-callback-secret',
    });
    assert.deepEqual(configuredSecrets(c).sort(), [
      '123456:ABCdefGHIjklMNOpqrSTUvwx',
      'admin-token-0123456789',
      'p%40ss-word',
      'p@ss-word',
      'secret_1',
      'vk-callback-secret',
      'vk1.a.community-token',
    ]);
  });

  describe('the EventStoreDB connection', () => {
    const esdb = (env: Record<string, string>) => loadConfig({ EVENT_STORE: 'esdb', ...env });
    const refused = (env: Record<string, string>, message: RegExp, secret?: string) =>
      assert.throws(
        () => esdb(env),
        (e: Error) => {
          assert.equal(e.name, 'ConfigError');
          assert.match(e.message, message);
          assert.equal(e.message.includes('\n'), false, 'one line');
          if (secret) assert.equal(e.message.includes(secret), false, 'the password is not printed');
          return true;
        },
      );

    it('takes what the client parses: esdb:// and esdb+discover://, options it knows', () => {
      for (const url of [
        'esdb://localhost:2113?tls=false',
        'esdb+discover://cluster.example.com:2113',
        'esdb://admin:changeit@a:2113,b:2113,c:2113?tls=true&nodePreference=leader&keepAliveTimeout=20000',
      ])
        assert.equal(esdb({ EVENTSTORE_URL: url }).EVENTSTORE_URL, url);
    });

    it('refuses what the client would refuse at start-up, in one line naming the variable', () => {
      for (const scheme of ['kurrentdb', 'kdb', 'kurrentdb+discover', 'esdb+tls'])
        refused(
          { EVENTSTORE_URL: `${scheme}://admin:pa55word@db:2113?tls=false` },
          /^EVENTSTORE_URL must be a connection string the client accepts, .*expected esdb:\/\/ or esdb\+discover:\/\/ at character 1\) \(got "[^"]*\[redacted\]@db:2113\?tls=false"\)$/,
          'pa55word',
        );
      refused(
        { EVENTSTORE_URL: 'esdb://admin:pa55word@db:2113?tls=maybe' },
        /^EVENTSTORE_URL .*expected true or false at character \d+\)/,
        'pa55word',
      );
      refused(
        { EVENTSTORE_URL: 'esdb://admin:pa55word@db:port' },
        /^EVENTSTORE_URL .*expected port number/,
        'pa55word',
      );
    });

    it('refuses options the client would only warn about on the console, printing the whole string', () => {
      refused(
        { EVENTSTORE_URL: 'esdb://admin:pa55word@db:2113?tls=true&tlsVerifyCertificate=false' },
        /^EVENTSTORE_URL has the option "tlsVerifyCertificate", which the client does not know/,
        'pa55word',
      );
      refused(
        { EVENTSTORE_URL: 'esdb://db:2113?tlsVerifyCert=false' },
        /^EVENTSTORE_URL has tlsVerifyCert=false, which the client ignores: give the CA .* EVENTSTORE_CA_FILE/,
      );
    });

    it('refuses a node named by IP address with TLS on (Node refuses it as a TLS server name); takes it without TLS', () => {
      refused(
        { EVENTSTORE_URL: 'esdb://admin:pa55word@10.0.0.5:2113' },
        /^EVENTSTORE_URL names a node by its IP address \(10\.0\.0\.5\) with TLS on: name it by the host name/,
        'pa55word',
      );
      assert.equal(
        esdb({ EVENTSTORE_URL: 'esdb://10.0.0.5:2113?tls=false' }).EVENTSTORE_URL,
        'esdb://10.0.0.5:2113?tls=false',
      );
    });

    it('takes a readable CA file for a TLS node; refuses a missing one, or one for a node without TLS', () => {
      const dir = mkdtempSync(join(tmpdir(), 'topicdesk-ca-'));
      const ca = join(dir, 'ca.crt');
      writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
      assert.equal(esdb({ EVENTSTORE_URL: 'esdb://db:2113', EVENTSTORE_CA_FILE: ca }).EVENTSTORE_CA_FILE, ca);
      refused(
        { EVENTSTORE_URL: 'esdb://db:2113', EVENTSTORE_CA_FILE: join(dir, 'missing.crt') },
        /^EVENTSTORE_CA_FILE cannot be read \(ENOENT\)/,
      );
      refused(
        { EVENTSTORE_URL: 'esdb://db:2113?tls=false', EVENTSTORE_CA_FILE: ca },
        /^EVENTSTORE_CA_FILE is set, but EVENTSTORE_URL has tls=false/,
      );
      refused(
        { EVENTSTORE_URL: `esdb://db:2113?tlsCAFile=${ca}`, EVENTSTORE_CA_FILE: ca },
        /^EVENTSTORE_CA_FILE is set, and EVENTSTORE_URL has tlsCAFile too/,
      );
    });

    it('takes credentials in the URL or apart, not half nor twice; the password is a secret', () => {
      const c = esdb({
        EVENTSTORE_URL: 'esdb://db:2113',
        EVENTSTORE_USERNAME: 'admin',
        EVENTSTORE_PASSWORD: 'ch4nge-it-please',
      });
      assert.equal(c.EVENTSTORE_USERNAME, 'admin');
      assert.ok(configuredSecrets(c).includes('ch4nge-it-please'));
      refused(
        { EVENTSTORE_URL: 'esdb://db:2113', EVENTSTORE_USERNAME: 'admin' },
        /^EVENTSTORE_PASSWORD is required with EVENTSTORE_USERNAME \(it is not set\)$/,
      );
      refused(
        { EVENTSTORE_URL: 'esdb://db:2113', EVENTSTORE_PASSWORD: 'ch4nge-it-please' },
        /^EVENTSTORE_USERNAME is required with EVENTSTORE_PASSWORD/,
        'ch4nge-it-please',
      );
      refused(
        {
          EVENTSTORE_URL: 'esdb://admin:pa55word@db:2113',
          EVENTSTORE_USERNAME: 'ops',
          EVENTSTORE_PASSWORD: 'ch4nge-it-please',
        },
        /^EVENTSTORE_USERNAME is set, and EVENTSTORE_URL has credentials too/,
        'pa55word',
      );
      refused(
        {
          EVENTSTORE_URL: 'esdb://db:2113?tls=false',
          EVENTSTORE_USERNAME: 'ops',
          EVENTSTORE_PASSWORD: 'ch4nge-it-please',
        },
        /^EVENTSTORE_USERNAME is set, but EVENTSTORE_URL has tls=false: the client sends credentials over TLS only/,
        'ch4nge-it-please',
      );
      assert.ok(
        configuredSecrets(esdb({ EVENTSTORE_URL: 'esdb://admin:pa55word@db:2113' })).includes('pa55word'),
      );
    });

    it("bounds the adapter's calls and start-up's wait", () => {
      const c = esdb({ EVENTSTORE_URL: 'esdb://db:2113?tls=false' });
      assert.deepEqual(
        [c.EVENTSTORE_TIMEOUT_MS, c.EVENTSTORE_PING_TIMEOUT_MS, c.EVENTSTORE_START_TIMEOUT_MS],
        [10_000, 5000, 120_000],
      );
      refused(
        { EVENTSTORE_URL: 'esdb://db:2113?tls=false', EVENTSTORE_TIMEOUT_MS: '10' },
        /^EVENTSTORE_TIMEOUT_MS must be at least 100 ms \(got "10"\)$/,
      );
    });
  });

  it('accepts a full Telegram set-up and reports the channel configured', () => {
    const c = loadConfig({ ...telegram, DATABASE_URL: 'postgres://u:p@db:5432/topicdesk' });
    assert.equal(channelStatus(c).find((s) => s.channel === 'telegram')?.configured, true);
  });
});

describe('tg-support-bot’s variable names', () => {
  const old = {
    TELEGRAM_TOKEN: telegram.TELEGRAM_BOT_TOKEN,
    TELEGRAM_GROUP_ID: telegram.TELEGRAM_SUPPORT_CHAT_ID,
    TELEGRAM_SECRET_KEY: telegram.TELEGRAM_WEBHOOK_SECRET,
    VK_CONFIRM_CODE: 'a1b2c3',
    VK_SECRET_CODE: 'vk-secret-value',
    TELEGRAM_TOPIC_NAME: '{first_name} {last_name} {platform}',
  };

  it('are read as topicdesk’s names, each with a line naming the new one', () => {
    const c = loadConfig(old);
    assert.equal(c.TELEGRAM_BOT_TOKEN, telegram.TELEGRAM_BOT_TOKEN);
    assert.equal(c.TELEGRAM_SUPPORT_CHAT_ID, telegram.TELEGRAM_SUPPORT_CHAT_ID);
    assert.equal(c.TELEGRAM_WEBHOOK_SECRET, telegram.TELEGRAM_WEBHOOK_SECRET);
    assert.deepEqual([c.VK_CONFIRMATION, c.VK_SECRET], ['a1b2c3', 'vk-secret-value']);
    assert.equal(c.TOPIC_TITLE_TEMPLATE, '{first_name} {last_name} {platform}');
    const notices = legacyEnvNotices(old);
    assert.equal(notices.length, 6);
    assert.ok(
      notices.includes(
        "TELEGRAM_TOKEN is tg-support-bot's name for TELEGRAM_BOT_TOKEN: read as TELEGRAM_BOT_TOKEN; rename it",
      ),
    );
    assert.deepEqual(legacyEnvNotices(telegram), []);
  });

  it('the new name wins when both are set alike; set to different values, start-up is refused', () => {
    assert.equal(
      loadConfig({ ...telegram, TELEGRAM_TOKEN: telegram.TELEGRAM_BOT_TOKEN }).TELEGRAM_BOT_TOKEN,
      telegram.TELEGRAM_BOT_TOKEN,
    );
    assert.throws(
      () => loadConfig({ ...telegram, TELEGRAM_GROUP_ID: '-1009999999999' }),
      /^ConfigError: TELEGRAM_GROUP_ID and TELEGRAM_SUPPORT_CHAT_ID are both set, to different values: keep TELEGRAM_SUPPORT_CHAT_ID/,
    );
  });

  it('a wrong value under the old name is named by both names, a secret never quoted whole', () => {
    assert.throws(
      () => loadConfig({ ...old, TELEGRAM_GROUP_ID: '12345' }),
      /^ConfigError: TELEGRAM_SUPPORT_CHAT_ID \(set as TELEGRAM_GROUP_ID\) must be the support supergroup id/,
    );
    assert.deepEqual(
      configuredSecrets({ TELEGRAM_TOKEN: 'tok-under-old-name', VK_SECRET_CODE: 'vk-old' }).sort(),
      ['tok-under-old-name', 'vk-old'],
    );
  });
});
