import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { channelStatus, configuredSecrets, loadConfig } from '../../src/app/config.ts';

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
          'EVENTSTORE_URL must be an esdb:// connection string (got "http://admin:[redacted]@es:2113")',
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

  it('accepts a full Telegram set-up and reports the channel configured', () => {
    const c = loadConfig({ ...telegram, DATABASE_URL: 'postgres://u:p@db:5432/topicdesk' });
    assert.equal(channelStatus(c).find((s) => s.channel === 'telegram')?.configured, true);
  });
});
