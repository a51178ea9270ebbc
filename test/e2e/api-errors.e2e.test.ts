// Every 4xx of the external API, as problem+json, and none of them records anything.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/adapters/logging/logger.ts';
import { runSourceCommand } from '../../src/adapters/sources/sources.ts';
import { type App, startApp } from '../../src/app/app.ts';
import { loadConfig } from '../../src/app/config.ts';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  type ApiResponse,
  client,
  fieldsOf,
  type Message,
  newSource,
  type Problem,
  sourceEventCount,
} from './api-helpers.ts';

const RATE_LIMIT = 40;
const MAX_FILE_BYTES = 4096;

const isProblem = (r: ApiResponse<unknown>, status: number) => {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  const p = r.body as Problem;
  assert.equal(p.status, status);
  assert.equal(p.type, 'about:blank');
  assert.equal(typeof p.title, 'string');
  return p;
};

describe('external API: errors', () => {
  let h: Harness;
  // Each test uses its own source (and so its own token and rate-limit bucket).
  let n = 0;
  const fresh = async () => {
    const s = await newSource(h, `src${++n}`);
    return { source: s, api: client(h, s) };
  };

  before(async () => {
    h = await startHarness({
      API_WRITE_WAIT_MS: '20000',
      API_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
      API_MAX_FILE_BYTES: String(MAX_FILE_BYTES),
      API_MAX_FILES: '3',
    });
  });
  after(async () => {
    await h.stop();
  });

  it('401 without a token, with a wrong one, and with a revoked one — nothing recorded', async () => {
    const { source, api } = await fresh();
    assert.equal((await api.post('/api/external/a/messages', { json: { text: 'ok' } })).status, 201);
    const before = await sourceEventCount(h);
    const anonymous = client(h);
    const attempts: Array<Record<string, string> | undefined> = [
      undefined,
      { authorization: 'Bearer td_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      { authorization: `Bearer ${source.token.slice(0, -1)}x` },
      { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      { authorization: 'Bearer' },
      { authorization: source.token },
    ];
    for (const headers of attempts) {
      const r = await anonymous.post('/api/external/a/messages', {
        json: { text: 'sneaky' },
        ...(headers ? { headers } : {}),
      });
      isProblem(r, 401);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    isProblem(await anonymous.get('/api/external/messages'), 401);
    isProblem(await anonymous.get('/api/external/files/AgADxyz'), 401);
    // Bad input and no token: the token is checked first.
    isProblem(
      await anonymous.post('/api/external/a/messages', {
        raw: 'x',
        headers: { 'content-type': 'text/plain' },
      }),
      401,
    );

    await runSourceCommand(h.app.log, source.code, { type: 'RevokeToken', tokenId: source.tokenId });
    // Refused once the sources read model has the revocation (and the API heard of it: token-cache.ts).
    await waitFor('the revocation', async () =>
      (await api.get('/api/external/a/messages')).status === 401 ? true : undefined,
    );
    isProblem(await api.post('/api/external/a/messages', { json: { text: 'after revoke' } }), 401);
    isProblem(await api.get('/api/external/a/messages'), 401);
    assert.equal(await sourceEventCount(h), before, "nothing recorded on the source's behalf");
  });

  it('400 names every bad field — query, params, headers and body — and records nothing', async () => {
    const { api } = await fresh();
    await api.post('/api/external/c/messages', { json: { text: 'exists' } });
    const before = await sourceEventCount(h);

    const body = isProblem(
      await api.post('/api/external/c/messages', { json: { text: 42, reply_to: '', colour: 'red' } }),
      400,
    );
    assert.deepEqual(fieldsOf(body), ['body.colour', 'body.reply_to', 'body.text']);
    for (const e of body.errors!) assert.ok(e.message.length > 0);

    assert.deepEqual(fieldsOf(isProblem(await api.post('/api/external/c/messages', { json: {} }), 400)), [
      'body.text',
    ]);
    assert.deepEqual(
      fieldsOf(isProblem(await api.post('/api/external/c/messages', { json: { text: '   ' } }), 400)),
      ['body.text'],
    );
    assert.deepEqual(fieldsOf(isProblem(await api.post('/api/external/c/messages', { json: [1, 2] }), 400)), [
      'body',
    ]);
    assert.deepEqual(
      fieldsOf(
        isProblem(
          await api.post('/api/external/c/messages', {
            raw: '{"text":',
            headers: { 'content-type': 'application/json' },
          }),
          400,
        ),
      ),
      ['body'],
    );
    assert.deepEqual(
      fieldsOf(
        isProblem(
          await api.post('/api/external/c/messages', { headers: { 'content-type': 'application/json' } }),
          400,
        ),
      ),
      ['body'],
    );
    assert.deepEqual(
      fieldsOf(isProblem(await api.post('/api/external/c/messages', { json: { text: 'a\u0000b' } }), 400)),
      ['body.text'],
    );

    const header = isProblem(
      await api.post('/api/external/c/messages', {
        json: { text: 'hi' },
        headers: { 'idempotency-key': 'k'.repeat(300) },
      }),
      400,
    );
    assert.deepEqual(fieldsOf(header), ['headers.idempotency-key']);

    const params = isProblem(await api.get(`/api/external/${'x'.repeat(129)}/messages`), 400);
    assert.deepEqual(fieldsOf(params), ['params.externalId']);
    assert.deepEqual(fieldsOf(isProblem(await api.get('/api/external/a%20b/messages'), 400)), [
      'params.externalId',
    ]);

    // Several parts at once: each is named.
    const many = isProblem(
      await api.post(`/api/external/${'y'.repeat(200)}/messages`, {
        json: { text: '' },
        headers: { 'idempotency-key': 'has spaces' },
      }),
      400,
    );
    assert.deepEqual(fieldsOf(many), ['body.text', 'headers.idempotency-key', 'params.externalId']);

    const query = isProblem(
      await api.get('/api/external/c/messages?limit=0&after_id=-1&include_deleted=maybe&offset=x'),
      400,
    );
    assert.deepEqual(fieldsOf(query), [
      'query.after_id',
      'query.include_deleted',
      'query.limit',
      'query.offset',
    ]);
    assert.deepEqual(fieldsOf(isProblem(await api.get('/api/external/messages?wait=31&limit=201'), 400)), [
      'query.limit',
      'query.wait',
    ]);
    assert.deepEqual(
      fieldsOf(isProblem(await api.get('/api/external/c/messages?after_id=99999999999999999999'), 400)),
      ['query.after_id'],
    );
    // A number too large for a double reads as Infinity: a 400 naming it, not a 500 from the database.
    const huge = isProblem(await api.get('/api/external/c/messages?before_id=1e309&limit=1e400'), 400);
    assert.deepEqual(huge.errors, [
      { field: 'query.before_id', message: 'must be integer' },
      { field: 'query.limit', message: 'must be integer' },
    ]);
    assert.deepEqual(fieldsOf(isProblem(await api.get('/api/external/c/messages?external_id=other'), 400)), [
      'query.external_id',
    ]);
    assert.deepEqual(
      fieldsOf(isProblem(await api.put('/api/external/c/messages', { json: { message_id: 'm' } }), 400)),
      ['body.text'],
    );
    assert.deepEqual(
      fieldsOf(
        isProblem(await api.put('/api/external/c/messages/m1', { json: { text: 'x', extra: 1 } }), 400),
      ),
      ['body.extra'],
    );
    assert.deepEqual(
      fieldsOf(
        isProblem(await api.del('/api/external/c/messages', { json: { message_id: { id: 1 } } }), 400),
      ),
      ['body.message_id'],
    );
    assert.equal(await sourceEventCount(h), before);
  });

  it('404 for unknown messages, conversations and files', async () => {
    const { api } = await fresh();
    const sent = await api.post<Message>('/api/external/d/messages', { json: { text: 'here' } });
    isProblem(await api.get('/api/external/d/messages/nope'), 404);
    isProblem(await api.put('/api/external/d/messages/nope', { json: { text: 'x' } }), 404);
    isProblem(await api.del('/api/external/d/messages/nope'), 404);
    isProblem(await api.del('/api/external/d/messages', { json: { message_id: 'nope' } }), 404);
    isProblem(await api.get(`/api/external/somebody-else/messages/${sent.body.id}`), 404);
    isProblem(await api.get('/api/external/never-wrote/messages'), 404);
    isProblem(await api.get('/api/external/files/AgADunknown'), 404);
    isProblem(await api.get(`/api/external/files/${encodeURIComponent(`${sent.body.id}:0`)}`), 404);
    isProblem(await api.get('/api/external/nowhere'), 404);
  });

  it('413 for a file above API_MAX_FILE_BYTES, too many files, or a JSON body above 1 MiB', async () => {
    const { api } = await fresh();
    const before = await sourceEventCount(h);
    const big = new FormData();
    big.append('text', 'too big');
    big.append('files', new Blob([Buffer.alloc(MAX_FILE_BYTES + 1, 1)]), 'big.bin');
    const tooBig = isProblem(await api.post('/api/external/e/messages', { form: big }), 413);
    assert.match(tooBig.detail ?? '', /API_MAX_FILE_BYTES/);

    const many = new FormData();
    for (let i = 0; i < 4; i++) many.append('files', new Blob([Buffer.from(`f${i}`)]), `f${i}.txt`);
    isProblem(await api.post('/api/external/e/messages', { form: many }), 413);

    isProblem(await api.post('/api/external/e/messages', { json: { text: 'x'.repeat(1_100_000) } }), 413);
    assert.equal(await sourceEventCount(h), before);
    assert.equal(
      h.tg.callsTo('sendDocument').filter((c) => c.uploads.length > 0).length,
      0,
      'nothing uploaded',
    );
  });

  it('415 for a body in a type the operation does not declare', async () => {
    const { api } = await fresh();
    const before = await sourceEventCount(h);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'image/png']) {
      const r = isProblem(
        await api.post('/api/external/f/messages', { raw: 'text=hello', headers: { 'content-type': type } }),
        415,
      );
      assert.match(r.detail ?? '', /application\/json/);
    }
    const form = new FormData();
    form.append('text', 'hello');
    isProblem(await api.put('/api/external/f/messages/x', { form }), 415);
    isProblem(
      await api.post('/api/external/f/messages', { raw: 'hello', headers: { 'content-type': '' } }),
      415,
    );
    assert.equal(await sourceEventCount(h), before);
  });

  it('400 for multipart mistakes: a file in a text field, text as a file field, text too long for a caption', async () => {
    const { api } = await fresh();
    const before = await sourceEventCount(h);
    const fileAsText = new FormData();
    fileAsText.append('text', new Blob([Buffer.from('x')]), 'x.txt');
    assert.deepEqual(
      fieldsOf(isProblem(await api.post('/api/external/g/messages', { form: fileAsText }), 400)),
      ['body.text'],
    );
    const textAsFile = new FormData();
    textAsFile.append('text', 'hello');
    textAsFile.append('files', 'not a file');
    assert.deepEqual(
      fieldsOf(isProblem(await api.post('/api/external/g/messages', { form: textAsFile }), 400)),
      ['body.files'],
    );
    const longCaption = new FormData();
    longCaption.append('text', 'x'.repeat(1025));
    longCaption.append('files', new Blob([Buffer.from('x')]), 'x.txt');
    assert.deepEqual(
      fieldsOf(isProblem(await api.post('/api/external/g/messages', { form: longCaption }), 400)),
      ['body.text'],
    );
    const empty = new FormData();
    empty.append('reply_to', 'x');
    assert.deepEqual(fieldsOf(isProblem(await api.post('/api/external/g/messages', { form: empty }), 400)), [
      'body.text',
    ]);
    assert.equal(await sourceEventCount(h), before);
  });

  it(`429 with Retry-After beyond ${RATE_LIMIT} requests a minute per token; other tokens are not affected`, async () => {
    const { api } = await fresh();
    const { api: neighbour } = await fresh();
    const statuses: number[] = [];
    let limited: ApiResponse<unknown> | undefined;
    for (let i = 0; i < RATE_LIMIT + 5; i++) {
      const r = await api.get('/api/external/messages');
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
    }
    assert.ok(
      statuses.slice(0, RATE_LIMIT).every((s) => s === 200),
      statuses.join(','),
    );
    assert.ok(limited, 'limited after the burst');
    isProblem(limited!, 429);
    const retryAfter = Number(limited!.headers.get('retry-after'));
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60,
      `Retry-After ${retryAfter}`,
    );
    const before = await sourceEventCount(h);
    isProblem(await api.post('/api/external/h/messages', { json: { text: 'limited' } }), 429);
    assert.equal(await sourceEventCount(h), before);
    assert.equal((await neighbour.get('/api/external/messages')).status, 200);
  });
});

describe('external API without the Telegram channel', () => {
  let db: TestDatabase;
  let app: App;
  before(async () => {
    db = await createTestDatabase({ migrate: false });
    app = await startApp(
      loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' }),
      createLogger({ level: 'silent' }),
    );
  });
  after(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('records text messages, and answers 503 for files (Telegram is the file store)', async () => {
    const h = { app, url: app.address(), db } as unknown as Harness;
    const api = client(h, await newSource(h, 'solo'));
    assert.equal(
      (await api.post('/api/external/z/messages', { json: { text: 'plain text works' } })).status,
      201,
    );
    const before = await sourceEventCount(h);
    const form = new FormData();
    form.append('files', new Blob([Buffer.from('x')]), 'x.txt');
    const r = isProblem(await api.post('/api/external/z/messages', { form }), 503);
    assert.match(r.detail ?? '', /Telegram/);
    assert.equal(await sourceEventCount(h), before);
  });
});
