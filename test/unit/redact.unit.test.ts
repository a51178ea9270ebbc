// The redaction every log line, error answer and CLI error goes through: each secret shape, the
// configured values in each spelling, and text that only looks alike left alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRedactor, redactSecrets } from '../../src/adapters/logging/redact.ts';

const BOT_TOKEN = '7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0';

describe('redaction', () => {
  it('takes bot tokens out of Bot API URLs and out of text, keeping the bot id', () => {
    assert.equal(
      redactSecrets(`request to https://api.telegram.org/bot${BOT_TOKEN}/getUpdates failed`),
      'request to https://api.telegram.org/bot7012345678:[redacted]/getUpdates failed',
    );
    assert.equal(redactSecrets(`token ${BOT_TOKEN}.`), 'token 7012345678:[redacted].');
    assert.equal(
      redactSecrets('https://api.telegram.org/file/bot123:ABCdefGHIjklMNOpqrSTUvwx/photos/1.jpg'),
      'https://api.telegram.org/file/bot123:[redacted]/photos/1.jpg',
    );
  });

  it('takes out VK tokens, source tokens and webhook secrets, keeping what is no secret', () => {
    assert.equal(redactSecrets('vk1.a.Xy-Z_0.9abc expired'), 'vk1.a.[redacted] expired');
    assert.equal(
      redactSecrets('Bearer td_0123456789ab_oryl0uZwLa6oxcK_COTx83HM2TwmIoEW1iUtSs9ULCg'),
      'Bearer td_0123456789ab_[redacted]',
    );
    assert.equal(redactSecrets('whsec_8A9o7IAkcoavrRFsJmMu6C0yCjM9-uOJ'), 'whsec_[redacted]');
  });

  it('takes out passwords in URLs, credentials in query strings and credential headers', () => {
    assert.equal(
      redactSecrets('postgres://topicdesk:s3cr@t!@db:5432/topicdesk'),
      'postgres://topicdesk:[redacted]@db:5432/topicdesk',
    );
    assert.equal(
      redactSecrets('https://lp.vk.com/wh1?act=a_check&key=abc123&ts=5&wait=25'),
      'https://lp.vk.com/wh1?act=a_check&key=[redacted]&ts=5&wait=25',
    );
    assert.equal(
      redactSecrets('{"headers":{"authorization":"Bearer abc.def","x-telegram-bot-api-secret-token":"s"}}'),
      '{"headers":{"authorization":"[redacted]","x-telegram-bot-api-secret-token":"[redacted]"}}',
    );
    assert.equal(
      redactSecrets('GET / HTTP/1.1\\r\\nAuthorization: Basic dXNlcjpwYXNz\\r\\nHost: x'),
      'GET / HTTP/1.1\\r\\nAuthorization: [redacted]\\r\\nHost: x',
    );
  });

  it('takes out configured values as written, inside JSON strings and percent-encoded', () => {
    const redact = createRedactor(['admin "quoted" token/1', 'vk-callback-secret', 'short']);
    assert.equal(redact('admin "quoted" token/1'), '[redacted]');
    assert.equal(redact(JSON.stringify({ t: 'admin "quoted" token/1' })), '{"t":"[redacted]"}');
    assert.equal(redact('?s=admin%20%22quoted%22%20token%2F1'), '?s=[redacted]');
    assert.equal(redact('secret: vk-callback-secret'), 'secret: [redacted]');
    assert.equal(redact('a short word'), 'a short word', 'values under 8 characters are not looked for');
    assert.equal(
      createRedactor([BOT_TOKEN])(`got ${BOT_TOKEN}`),
      'got 7012345678:[redacted]',
      "a bot token's id stays",
    );
  });

  it('leaves alike text alone: table names, ids, positions, timestamps, prose about authorization', () => {
    const line =
      '{"msg":"td_events NOTIFY","stream":"conversation-63ce659a-469e-5331-8cee-dcd11f1e02f6","commandId":"forwarded:55:3f0c2a61-9a3e-4f7d-8c55-2e1f0b9d7a34","at":"12:30:01","reason":"VK error 5: User authorization failed: invalid access_token (4).","url":"http://127.0.0.1:3000/readyz"}';
    assert.equal(redactSecrets(line), line);
  });
});
