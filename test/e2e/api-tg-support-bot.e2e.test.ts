// tg-support-bot's dialect, per version, written from what its external API does: a source created
// with `--compat tg-support-bot@N` is answered in that version's shapes and posted its webhooks,
// while a topicdesk source beside it keeps topicdesk's answers. The client below is written the way
// tg-support-bot's documentation shows one: plain fetch, its paths, its field names, no helpers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseCompat } from '../../src/adapters/api/compat/dialect.ts';
import { authenticate, createSource } from '../../src/adapters/sources/sources.ts';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import {
  RECEIVER_ALLOWANCE,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';
import { apiEnv, client, newSource } from './api-helpers.ts';

/** A source speaking `compat`, its token live. */
const dialectSource = async (h: Harness, code: string, compat: string, webhook: string | null = null) => {
  const created = await createSource(h.app.log, code, webhook as never, 'cli', parseCompat(compat));
  await waitFor(`the token of ${code}`, async () =>
    (await authenticate(h.app.db.pool, created.token)) ? true : undefined,
  );
  return created.token;
};

/** What an integration written for tg-support-bot does: fetch, a bearer token, its paths. */
const tgSupportBotClient = (base: string, token: string) => {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/api/external${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body !== undefined && !(body instanceof FormData) ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: body instanceof FormData ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, text, json: text ? (JSON.parse(text) as Answer) : undefined };
  };
  return {
    send: (externalId: string, text: string) => call('POST', `/${externalId}/messages`, { text }),
    sendFile: (externalId: string, name: string, bytes: Buffer) => {
      const form = new FormData();
      form.append('uploaded_file', new Blob([bytes], { type: 'image/png' }), name);
      return call('POST', `/${externalId}/files`, form);
    },
    list: (externalId: string, params: Record<string, string | number> = {}) => {
      const q = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
      return call('GET', `/${externalId}/messages?${q}`);
    },
    show: (externalId: string, id: number) => call('GET', `/${externalId}/messages/${id}`),
    update: (externalId: string, messageId: number, text: string) =>
      call('PUT', `/${externalId}/messages`, { message_id: messageId, text }),
    destroy: (externalId: string, messageId: number) =>
      call('DELETE', `/${externalId}/messages`, { message_id: messageId }),
    call,
  };
};

/** A message as tg-support-bot writes it. */
interface DialectMessage {
  message_type: string;
  to_id: number;
  from_id: number;
  text?: string;
  date: string;
  content_type: string;
  file_id?: string;
  file_url?: string;
  file_type?: string;
  file_name?: string;
}

/** Any of its answers. */
interface Answer {
  status?: boolean;
  error?: string;
  message?: string;
  message_id?: number;
  source?: string;
  external_id?: string;
  messages?: DialectMessage[];
  result?: DialectMessage;
  id?: number;
  text?: string;
}

/** Its webhooks: 5.0+ typed, 3.x–4.x flat. */
interface Hook {
  type_query?: string;
  externalId?: string;
  message: DialectMessage;
  source?: string;
  external_id?: string;
  message_type?: string;
  text?: string;
  dop_params?: null;
  file_path?: string | null;
  date?: string;
}

const ADMIN_TOKEN = 'admin-token-for-the-dialect-tests-0123';

/** "d.m.Y H:i:s". */
const DATE = /^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}$/;
/** The wall clock of `at` in `zone` as 'Y-m-d H:i:s'. */
const wall = (at: Date, zone: string) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: zone, dateStyle: 'short', timeStyle: 'medium' }).format(at);

describe("external API: tg-support-bot's dialect per source", () => {
  let h: Harness;
  let receiver: WebhookReceiver;

  before(async () => {
    h = await startHarness(
      apiEnv({
        FILE_LINK_SECRET: 'a-test-secret-for-signed-file-links-0123456789',
        WEBHOOK_ALLOW_PRIVATE: RECEIVER_ALLOWANCE,
        WEBHOOK_RETRY_INITIAL_MS: '100',
        ADMIN_TOKEN,
      }),
    );
    receiver = await startWebhookReceiver();
  });
  after(async () => {
    await h.stop();
    await receiver.close();
  });

  it('6.x: empty 200s, its list, filters with its meaning, files by a signed public link', async () => {
    const bot = tgSupportBotClient(h.url, await dialectSource(h, 'site6', 'tg-support-bot@6'));
    const user = 'visitor-6';
    for (const text of ['one', 'two', 'three']) {
      const sent = await bot.send(user, text);
      assert.equal(sent.status, 200);
      assert.equal(sent.text, '', '6.0+ answers a write with an empty body');
    }
    const file = await bot.sendFile(user, 'screen.png', Buffer.from('png-bytes'));
    assert.equal(file.status, 200, file.text);

    const all = await bot.list(user);
    assert.equal(all.status, 200);
    assert.equal(all.json?.status, true);
    assert.equal(all.json?.source, 'site6');
    assert.equal(all.json?.external_id, user);
    const messages = all.json?.messages ?? [];
    assert.deepEqual(
      messages.map((m) => m.text ?? null),
      ['one', 'two', 'three', null],
      'ascending by default, every message without a limit',
    );
    for (const m of messages) {
      assert.equal(m.message_type, 'incoming');
      assert.match(m.date, DATE);
      assert.equal(typeof m.from_id, 'number');
    }
    assert.equal(messages[0]!.content_type, 'text');
    const photo = messages[3]!;
    assert.equal(photo.content_type, 'file');
    assert.equal(photo.file_name, 'screen.png');

    // The file by its link, with no token at all (a widget's <img src>); a changed link is refused.
    const link = new URL(String(photo.file_url), h.url);
    const download = await fetch(link);
    assert.equal(download.status, 200);
    assert.equal(Buffer.from(await download.arrayBuffer()).toString(), 'png-bytes');
    const forged = await fetch(String(link).replace(/signature=[^&]+/, 'signature=forged'));
    assert.equal(forged.status, 404);
    const expired = new URL(link);
    expired.searchParams.set('expires', '1000');
    assert.equal((await fetch(expired)).status, 404);

    const texts = (r: { json?: Answer | undefined }) => (r.json?.messages ?? []).map((m) => m.text ?? null);
    assert.deepEqual(texts(await bot.list(user, { type_sort: 'desc', limit: 2 })), [null, 'three']);
    assert.deepEqual(
      texts(await bot.list(user, { type_sort: 'sideways', limit: 1 })),
      [null],
      'invalid: desc',
    );
    assert.deepEqual(texts(await bot.list(user, { limit: 2, offset: 1 })), ['two', 'three']);
    assert.equal(texts(await bot.list(user, { limit: 100_000 })).length, 4, 'no maximum');
    assert.deepEqual(texts(await bot.list(user, { offset: 9000 })), [], 'nor a deepest offset');
    assert.deepEqual(texts(await bot.list(user, { after_id: messages[1]!.from_id })), ['three', null]);

    // Dates are Moscow wall-clock time: a UTC wall clock 30 minutes ahead is still hours ago there.
    const soon = new Date(Date.now() + 30 * 60_000);
    assert.deepEqual(texts(await bot.list(user, { date_end: wall(soon, 'Europe/Moscow') })).length, 4);
    assert.deepEqual(texts(await bot.list(user, { date_end: wall(soon, 'UTC') })), []);

    // Edit and delete by the number the list gave.
    const edited = await bot.update(user, messages[0]!.from_id, 'one (edited)');
    assert.equal(edited.status, 200);
    assert.equal(edited.text, '');
    const deleted = await bot.destroy(user, messages[1]!.from_id);
    assert.equal(deleted.status, 200);
    assert.deepEqual(texts(await bot.list(user)), ['one (edited)', 'three', null]);
    const shown = await bot.show(user, messages[0]!.from_id);
    assert.equal(shown.json?.text, 'one (edited)');
    assert.equal(shown.json?.id, messages[0]!.from_id);

    // Its error conventions: a chat it does not know is a 200 with status false; a bad token 403.
    const unknown = await bot.list('nobody-here');
    assert.equal(unknown.status, 200);
    assert.equal(unknown.json?.status, false);
    assert.equal(typeof unknown.json?.error, 'string');
    const empty = await bot.send(user, '   ');
    assert.equal(empty.status, 200);
    assert.equal(empty.json?.status, false);
    const stranger = tgSupportBotClient(h.url, 'x'.repeat(64));
    const refused = await stranger.send(user, 'hi');
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.json, { message: 'Access is forbidden' });
  });

  it('reads list parameters from a GET body, as Laravel does', async () => {
    const token = await dialectSource(h, 'site6b', 'tg-support-bot@6');
    const bot = tgSupportBotClient(h.url, token);
    for (const text of ['a', 'b', 'c']) await bot.send('v-body', text);
    // fetch refuses a GET body; PHP's HTTP clients send one, so the request is written by hand.
    const raw = await rawGet(h.url, '/api/external/v-body/messages', token, { type_sort: 'desc', limit: 2 });
    assert.deepEqual(
      (raw.messages ?? []).map((m) => m.text),
      ['c', 'b'],
    );
  });

  it('5.x: {status, result} answers, `message` as the edit text, and typed webhooks (signed too)', async () => {
    const bot = tgSupportBotClient(
      h.url,
      await dialectSource(h, 'site5', 'tg-support-bot@5', await receiver.hook('/hooks/site5')),
    );
    const sent = await bot.send('visitor-5', 'hello from v5');
    assert.equal(sent.status, 200, sent.text);
    assert.equal(sent.json?.status, true);
    const result = sent.json?.result as DialectMessage;
    assert.equal(result.message_type, 'incoming');
    assert.equal(result.text, 'hello from v5');
    assert.equal(result.content_type, 'text');
    assert.match(result.date, DATE);
    assert.equal(typeof result.to_id, 'number');
    const edited = await bot.call('PUT', '/visitor-5/messages', {
      message_id: result.from_id,
      message: 'hello (edited)',
    });
    assert.equal(edited.json?.status, true);
    assert.equal(edited.json?.result?.text, 'hello (edited)');
    const deleted = await bot.destroy('visitor-5', result.from_id);
    assert.deepEqual(deleted.json, { status: true, message_id: result.from_id });

    // A manager answers in the topic: the source is posted tg-support-bot's webhook.
    const topic = await waitFor('the topic', () => h.tg.topics().find((t) => t.name.includes('visitor-5')));
    const manager = h.tg.addManager({ first_name: 'Alice' });
    const answer = h.tg.groupMessage(manager, topic.message_thread_id, { text: 'We are on it' });
    await h.postUpdate(answer);
    const hook = await waitFor('the webhook', () => receiver.at('/hooks/site5')[0], 20_000);
    const body = JSON.parse(hook.body) as Hook;
    assert.equal(body.type_query, 'send_message');
    assert.equal(body.externalId, 'visitor-5');
    assert.equal(body.message.message_type, 'outgoing');
    assert.equal(body.message.text, 'We are on it');
    assert.match(body.message.date, DATE);
    assert.ok(hook.headers['x-topicdesk-signature'], 'signed as well; its receivers ignore the header');
    // The answer's number is the one the list shows it under.
    const listed = await bot.list('visitor-5');
    const outgoing = listed.json?.messages?.find((m) => m.message_type === 'outgoing');
    assert.equal(outgoing?.from_id, body.message.from_id);

    // The manager edits it: edit_message, the same message.
    await h.postUpdate(
      h.tg.editedGroupMessage(manager, answer.message!.message_id, { text: 'We are on it, promise' }),
    );
    const edit = await waitFor(
      'the edit webhook',
      () =>
        receiver.at('/hooks/site5').find((r) => (JSON.parse(r.body) as Hook).type_query === 'edit_message'),
      20_000,
    );
    const editHook = JSON.parse(edit.body) as Hook;
    assert.equal(editHook.message.text, 'We are on it, promise');
    assert.equal(editHook.message.from_id, body.message.from_id);
  });

  it('4.x: {status, result} answers and the flat webhook', async () => {
    const bot = tgSupportBotClient(
      h.url,
      await dialectSource(h, 'site4', 'tg-support-bot@4', await receiver.hook('/hooks/site4')),
    );
    const sent = await bot.send('visitor-4', 'hello from v4');
    assert.equal(sent.json?.status, true);
    assert.equal(sent.json?.result?.text, 'hello from v4');
    const topic = await waitFor('the topic', () => h.tg.topics().find((t) => t.name.includes('visitor-4')));
    const manager = h.tg.addManager({ first_name: 'Bob' });
    await h.postUpdate(h.tg.groupMessage(manager, topic.message_thread_id, { text: 'Flat answer' }));
    const hook = await waitFor('the webhook', () => receiver.at('/hooks/site4')[0], 20_000);
    const body = JSON.parse(hook.body) as Hook;
    assert.equal(body.source, 'site4');
    assert.equal(body.external_id, 'visitor-4');
    assert.equal(body.message_type, 'outgoing');
    assert.equal(body.text, 'Flat answer');
    assert.equal(body.dop_params, null);
    assert.match(String(body.date), /^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}$/);
    assert.equal(body.type_query, undefined);
    assert.equal(body.file_path, null);

    // A photo answer: its file_path is a signed link that works without a token.
    await h.postUpdate(
      h.tg.groupMessage(manager, topic.message_thread_id, { photo: true, caption: 'This one?' }),
    );
    const photoHook = await waitFor(
      'the photo webhook',
      () => receiver.at('/hooks/site4').find((r) => (JSON.parse(r.body) as Hook).text === 'This one?'),
      20_000,
    );
    const filePath = String((JSON.parse(photoHook.body) as Hook).file_path);
    assert.match(filePath, /\/api\/files\/[^?]+\?source=site4&expires=\d+&signature=/);
    const download = await fetch(new URL(filePath, h.url));
    assert.equal(download.status, 200);
  });

  it('3.0: /api/external/messages with external_id in the body, {status, message_id}', async () => {
    const token = await dialectSource(h, 'site3', 'tg-support-bot@3');
    const bot = tgSupportBotClient(h.url, token);
    const sent = await bot.call('POST', '/messages', {
      source: 'site3',
      external_id: 'visitor-3',
      text: 'v3 hello',
    });
    assert.equal(sent.status, 200, sent.text);
    assert.equal(sent.json?.status, true, sent.text);
    const id = sent.json?.message_id as number;
    assert.equal(typeof id, 'number');
    const list = await bot.call(
      'GET',
      `/messages?${new URLSearchParams({ source: 'site3', external_id: 'visitor-3' })}`,
    );
    assert.equal(list.json?.external_id, 'visitor-3');
    assert.deepEqual(
      (list.json?.messages ?? []).map((m) => m.text),
      ['v3 hello'],
    );
    const edited = await bot.call('PUT', '/messages', {
      source: 'site3',
      external_id: 'visitor-3',
      message_id: id,
      message: 'v3 edited',
    });
    assert.deepEqual(edited.json, { status: true, message_id: id });
    assert.equal((await bot.call('GET', `/messages/${id}`)).json?.text, 'v3 edited');
    // PHP clients often post HTML forms; a dialect source's are taken.
    const form = await fetch(`${h.url}/api/external/messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ source: 'site3', external_id: 'visitor-3', text: 'sent as a form' }),
    });
    assert.equal(form.status, 200);
    assert.equal(((await form.json()) as Answer).status, true);
    const deleted = await bot.call('DELETE', '/messages', {
      source: 'site3',
      external_id: 'visitor-3',
      message_id: id,
    });
    assert.deepEqual(deleted.json, { status: true, message_id: id });
  });

  it("a topicdesk source beside them keeps topicdesk's API", async () => {
    const native = await newSource(h, 'native_site');
    const api = client(h, native);
    const sent = await api.post<{ id: string; cursor: number }>('/api/external/n-1/messages', {
      json: { text: 'hi' },
    });
    assert.equal(sent.status, 201);
    assert.equal(typeof sent.body.id, 'string');
    const list = await api.get<{ messages: unknown[]; has_more: boolean }>('/api/external/n-1/messages');
    assert.equal(list.body.has_more, false);
    assert.equal((await api.get('/api/external/n-1/messages?limit=1000')).status, 400, 'its own maximum');
    const form = new FormData();
    form.append('text', 'x');
    const files = await api.post('/api/external/n-1/files', { form });
    assert.equal(files.status, 404, "the dialect's paths do not exist for it");
    const htmlForm = await api.post('/api/external/n-1/messages', {
      raw: 'text=hi',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(htmlForm.status, 415, 'no HTML forms for it');
    const wrong = await api.get('/api/external/n-1/messages', {
      token: `td_${native.tokenId}_${'A'.repeat(43)}`,
    });
    assert.equal(wrong.status, 401);
  });
});

describe("the admin API sets a source's dialect", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(apiEnv({ ADMIN_TOKEN }));
  });
  after(async () => {
    await h.stop();
  });

  const admin = (method: string, path: string, body: unknown) =>
    fetch(`${h.url}/api/admin${path}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('creates a dialect source, switches an existing one over and back, and refuses an unknown dialect', async () => {
    const created = await admin('POST', '/sources', { code: 'crm5', compat: 'tg-support-bot@5' });
    assert.equal(created.status, 201);
    const { token, compat, time_zone } = (await created.json()) as Record<string, string>;
    assert.equal(compat, 'tg-support-bot@5');
    assert.equal(time_zone, 'Europe/Moscow');
    const crm = tgSupportBotClient(h.url, token!);
    const sent = await waitFor('the token', async () => {
      const r = await crm.send('c-1', 'hello');
      return r.status === 200 ? r : undefined;
    });
    assert.equal(sent.json?.status, true);

    // A topicdesk source answered natively, then (same token, at once) in the dialect, then natively again.
    const native = await newSource(h, 'site_switch');
    const api = client(h, native);
    assert.equal((await api.post('/api/external/s-1/messages', { json: { text: 'one' } })).status, 201);
    const on = await admin('PUT', '/sources/site_switch/compat', {
      compat: 'tg-support-bot@6',
      time_zone: 'Asia/Yekaterinburg',
    });
    assert.equal(on.status, 200);
    const dialect = tgSupportBotClient(h.url, native.token);
    const listed = await waitFor('the dialect', async () => {
      const r = await dialect.list('s-1');
      return r.json?.status === true ? r : undefined;
    });
    assert.equal(listed.json?.messages?.[0]?.text, 'one');
    assert.equal((await admin('PUT', '/sources/site_switch/compat', { compat: null })).status, 200);
    await waitFor('its own API again', async () =>
      (await api.post('/api/external/s-1/messages', { json: { text: 'two' } })).status === 201
        ? true
        : undefined,
    );

    const bad = await admin('PUT', '/sources/site_switch/compat', { compat: 'tg-support-bot@2' });
    assert.equal(bad.status, 400);
    const missing = await admin('PUT', '/sources/nope/compat', { compat: 'tg-support-bot@6' });
    assert.equal(missing.status, 404);
  });
});

/** A GET with a JSON body, as PHP clients send it (fetch refuses to). */
const rawGet = async (base: string, path: string, token: string, body: unknown) => {
  const { request } = await import('node:http');
  const url = new URL(path, base);
  const payload = JSON.stringify(body);
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as Answer));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
};
