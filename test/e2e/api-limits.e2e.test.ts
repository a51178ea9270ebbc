// Limits of the HTTP server and the external API that keep one client from holding it up: uploads
// and long polls in progress at once (per token and in all, 429 with Retry-After), requests refused
// before their body is read (no file store, a declared length no limit accepts, a wrong Telegram
// secret), the time a client has to send its request, and how deep `offset` may page.
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import {
  type ApiSource,
  apiEnv,
  client,
  fieldsOf,
  type Message,
  newSource,
  type Page,
  type Problem,
} from './api-helpers.ts';

const REQUEST_TIMEOUT_MS = 1000;
const MAX_FILE_BYTES = 64 * 1024;
const MAX_FILES = 2;

interface Answer {
  readonly status?: number;
  readonly headers?: IncomingHttpHeaders;
  readonly body?: string;
  /** The connection ended without an answer (its error code). */
  readonly closed?: string;
  readonly ms: number;
}

/**
 * A request whose body is sent as the test says: headers and `first` at once, the rest only on
 * write()/end() — so a test sees what the server answers while the body is still coming.
 */
const openRequest = (
  url: string,
  method: string,
  headers: Record<string, string>,
  first?: string | Buffer,
) => {
  const t0 = Date.now();
  const req = httpRequest(url, { method, headers });
  const answer = new Promise<Answer>((resolve) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const done = () =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          ms: Date.now() - t0,
        });
      res.on('end', done);
      res.on('error', done);
    });
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ closed: e.code ?? e.message, ms: Date.now() - t0 }),
    );
  });
  if (first !== undefined) req.write(first);
  return { answer, req };
};

/** Resolves to 'pending' if the answer has not come within `ms`. */
const within = <T>(p: Promise<T>, ms: number): Promise<T | 'pending'> =>
  Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

/**
 * Of requests sent at once, the one answered first: 429, while the others are still unanswered a
 * moment later (they hold what it was refused).
 */
const firstAnswer = async <T extends { status?: number }>(answers: Array<Promise<T>>) => {
  const first = await within(
    Promise.race(answers.map((p, index) => p.then((refused) => ({ index, refused })))),
    10_000,
  );
  assert.notEqual(first, 'pending', 'one of them is answered');
  const { index, refused } = first as { index: number; refused: T };
  assert.equal(refused.status, 429, JSON.stringify(refused));
  const others = await Promise.all(answers.filter((_, i) => i !== index).map((p) => within(p, 300)));
  assert.ok(
    others.every((o) => o === 'pending'),
    `the others are still in progress: ${JSON.stringify(others)}`,
  );
  return { index, refused };
};

const BOUNDARY = 'topicdesk-test-boundary';
const multipartHead = (fileName: string) =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="text"\r\n\r\nscan\r\n` +
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="${fileName}"\r\n` +
  'Content-Type: application/octet-stream\r\n\r\n';

const problemOf = (a: Answer | 'pending'): Problem => {
  assert.notEqual(a, 'pending', 'an answer while the body was still coming');
  const answer = a as Answer;
  assert.ok(answer.status !== undefined, `an answer, not a closed connection (${answer.closed})`);
  assert.equal(answer.headers?.['content-type'], 'application/problem+json; charset=utf-8');
  return JSON.parse(answer.body ?? '') as Problem;
};

const fileForm = (name: string, bytes = 1000) => {
  const form = new FormData();
  form.append('files', new Blob([Buffer.alloc(bytes, 1)], { type: 'application/octet-stream' }), name);
  return form;
};

describe('HTTP limits: uploads, long polls, request time, offset, the Telegram secret', () => {
  let h: Harness;
  let a: ApiSource;
  let b: ApiSource;

  before(async () => {
    h = await startHarness(
      apiEnv({
        API_MAX_UPLOADS_PER_TOKEN: '2',
        API_MAX_UPLOADS: '3',
        API_MAX_LONG_POLLS_PER_TOKEN: '2',
        API_MAX_LONG_POLLS: '3',
        API_MAX_FILE_BYTES: String(MAX_FILE_BYTES),
        API_MAX_FILES: String(MAX_FILES),
      }),
    );
    a = await newSource(h, 'site_a');
    b = await newSource(h, 'site_b');
  });
  after(async () => {
    await h?.stop();
  });

  it('uploads in progress are capped per token and in all: 429 with Retry-After, the others go on', async () => {
    const apiA = client(h, a);
    const held: Array<ReturnType<typeof openRequest>> = [];
    /** Uploads whose bodies stop after the first bytes of their file: they stay in progress. */
    const hold = (source: ApiSource, ...externalIds: string[]) =>
      externalIds.map((externalId) => {
        const r = openRequest(
          `${h.url}/api/external/${externalId}/messages`,
          'POST',
          {
            authorization: `Bearer ${source.token}`,
            'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
          },
          `${multipartHead(`${externalId}.bin`)}${'x'.repeat(100)}`,
        );
        held.push(r);
        return r;
      });
    /** The one of `uploads` answered (429); the others stay in progress. */
    const theRefused = async (uploads: Array<ReturnType<typeof openRequest>>) => {
      const { index, refused } = await firstAnswer(uploads.map((u) => u.answer));
      assert.equal(refused.headers?.['retry-after'], '5');
      const p = problemOf(refused);
      assert.equal(p.code, 'too_many_uploads');
      return { problem: p, pending: uploads.filter((_, i) => i !== index) };
    };
    try {
      // site_a may have two in progress: of three at once, one is refused.
      const ofA = await theRefused(hold(a, 'up-a1', 'up-a2', 'up-a3'));
      assert.match(ofA.problem.detail ?? '', /this token already has 2 uploads in progress/);
      // Text is no upload: it goes on.
      const text = await apiA.post<Message>('/api/external/up-a4/messages', { json: { text: 'meanwhile' } });
      assert.equal(text.status, 201, JSON.stringify(text.body));

      // site_b has two of its own, but all tokens together only three.
      const ofB = await theRefused(hold(b, 'up-b1', 'up-b2'));
      assert.match(ofB.problem.detail ?? '', /3 uploads are in progress on this instance/);

      // One of site_a's uploads ends (its client went away): its slot is free again.
      ofA.pending[0]!.req.destroy();
      const again = await waitFor('an upload of site_a accepted again', async () => {
        const r = await apiA.post<Message>('/api/external/up-a5/messages', { form: fileForm('a5.bin') });
        return r.status === 429 ? undefined : r;
      });
      assert.equal(again.status, 201, JSON.stringify(again.body));
      assert.equal(again.body.attachments[0]?.file_name, 'a5.bin');
    } finally {
      for (const r of held) r.req.destroy();
    }
  });

  it('long polls are capped per token and in all; requests without wait never are', async () => {
    const pa = await newSource(h, 'poll_a');
    const pb = await newSource(h, 'poll_b');
    const apiA = client(h, pa);
    const apiB = client(h, pb);
    const poll = (api: ReturnType<typeof client>) =>
      api.get<Page & Problem>('/api/external/messages?wait=20');

    // poll_a may hold two: of three at once, one is refused.
    const ofA = [poll(apiA), poll(apiA), poll(apiA)];
    const refusedA = await firstAnswer(ofA);
    assert.equal(refusedA.refused.headers.get('retry-after'), '5');
    assert.equal(refusedA.refused.body.code, 'too_many_long_polls');
    assert.match(refusedA.refused.body.detail ?? '', /this token already has 2 long polls in progress/);
    // Without wait: answered at once, as always.
    assert.equal((await apiA.get<Page>('/api/external/messages')).status, 200);

    // poll_b has two of its own, but all tokens together only three.
    const ofB = [poll(apiB), poll(apiB)];
    const refusedB = await firstAnswer(ofB);
    assert.equal(refusedB.refused.body.code, 'too_many_long_polls');
    assert.match(refusedB.refused.body.detail ?? '', /3 long polls are in progress on this instance/);

    // A message for poll_a answers both of its polls; then it may wait again.
    assert.equal(
      (await apiA.post('/api/external/polled/messages', { json: { text: 'wake up' } })).status,
      201,
    );
    let cursor = 0;
    for (const p of ofA.filter((_, i) => i !== refusedA.index)) {
      const page = await p;
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.deepEqual(
        page.body.messages.map((m) => m.text),
        ['wake up'],
      );
      cursor = page.body.next_cursor ?? 0;
    }
    const next = await apiA.get<Page>(`/api/external/messages?wait=1&after_id=${cursor}`);
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.deepEqual(next.body.messages, []);
    // poll_b's poll ends with a message of its own.
    assert.equal(
      (await apiB.post('/api/external/polled-b/messages', { json: { text: 'done' } })).status,
      201,
    );
    assert.equal((await ofB[1 - refusedB.index]!).status, 200);
  });

  it('a multipart body declared larger than the limits allow is 413 before it is read', async () => {
    const limit = MAX_FILES * MAX_FILE_BYTES + 12 * 1024 * 1024;
    const { answer, req } = openRequest(
      `${h.url}/api/external/huge/messages`,
      'POST',
      {
        authorization: `Bearer ${a.token}`,
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        'content-length': String(limit + 1),
      },
      `${multipartHead('huge.bin')}${'x'.repeat(1000)}`,
    );
    const p = problemOf(await within(answer, 3000));
    req.destroy();
    assert.equal(p.status, 413);
    assert.match(p.detail ?? '', new RegExp(`larger than any this route takes: ${limit} bytes`));
    // At the limit itself the body is read (and its file refused for its own size, as before).
    const big = new FormData();
    big.append('files', new Blob([Buffer.alloc(MAX_FILE_BYTES + 1)]), 'big.bin');
    const tooBig = await client(h, a).post<Problem>('/api/external/huge/messages', { form: big });
    assert.equal(tooBig.status, 413);
    assert.match(tooBig.body.detail ?? '', /a file is larger than/);
  });

  it('an upload the disk cannot take is 503 (retry), not a bad request, and records nothing', async () => {
    const api = client(h, a);
    // The spool is os.tmpdir(), read at each upload: here a directory that does not exist.
    const tmp = process.env.TMPDIR;
    process.env.TMPDIR = '/nonexistent/topicdesk-spool';
    let r: Awaited<ReturnType<typeof api.post<Problem>>>;
    try {
      r = await api.post<Problem>('/api/external/disk/messages', { form: fileForm('disk.bin') });
    } finally {
      if (tmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmp;
    }
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.match(r.body.detail ?? '', /could not be kept on disk.*retry/);
    assert.equal((await api.get('/api/external/disk/messages')).status, 404, 'no conversation was started');
    assert.equal((await api.post('/api/external/disk/messages', { form: fileForm('disk.bin') })).status, 201);
  });

  it('offset pages at most 5000 deep: beyond, a 400 naming query.offset points to after_id', async () => {
    const api = client(h, a);
    assert.equal((await api.post('/api/external/deep/messages', { json: { text: 'one' } })).status, 201);
    const deepest = await api.get<Page>('/api/external/deep/messages?offset=5000');
    assert.equal(deepest.status, 200, JSON.stringify(deepest.body));
    assert.deepEqual(deepest.body.messages, []);
    for (const offset of [5001, 1_000_000]) {
      const r = await api.get<Problem>(`/api/external/deep/messages?offset=${offset}`);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.deepEqual(fieldsOf(r.body), ['query.offset']);
      assert.match(r.body.errors?.[0]?.message ?? '', /at most 5000.*after_id/);
    }
  });

  it('the Telegram webhook refuses a wrong secret before reading the body: 401, never 400 or 413', async () => {
    const post = (secret: string | null, body: string) =>
      fetch(`${h.url}/webhooks/telegram`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret }),
        },
        body,
      });
    const malformed = '{"update_id": 1, "message": ';
    const huge = JSON.stringify({ update_id: 2, padding: 'x'.repeat(2 * 1024 * 1024) });
    for (const secret of ['wrong', null]) {
      for (const body of [malformed, huge]) {
        const r = await post(secret, body);
        assert.equal(r.status, 401, `secret ${secret}, ${body.length} bytes: ${await r.text()}`);
      }
    }
    // A body that never comes: the wrong secret is answered all the same.
    const { answer, req } = openRequest(
      `${h.url}/webhooks/telegram`,
      'POST',
      {
        'content-type': 'application/json',
        'x-telegram-bot-api-secret-token': 'wrong',
        'content-length': '100000',
      },
      '{"update_id": 3',
    );
    const p = problemOf(await within(answer, 3000));
    req.destroy();
    assert.equal(p.status, 401);
    // The right secret: the body is parsed, and a malformed one is the sender's mistake.
    assert.equal((await post(WEBHOOK_SECRET, malformed)).status, 400);
  });
});

describe('HTTP limits without Telegram: no file store, a short request timeout', () => {
  let bare: Harness;

  before(async () => {
    bare = await startHarness(
      apiEnv({
        TELEGRAM_BOT_TOKEN: '',
        TELEGRAM_SUPPORT_CHAT_ID: '',
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      }),
    );
  });
  after(async () => {
    await bare?.stop();
  });

  it('a request whose body never finishes is cut off after HTTP_REQUEST_TIMEOUT_MS; a long poll may wait longer', async () => {
    const source = await newSource(bare, 'slow');
    const { answer, req } = openRequest(
      `${bare.url}/api/external/slow/messages`,
      'POST',
      {
        authorization: `Bearer ${source.token}`,
        'content-type': 'application/json',
        'content-length': '1000',
      },
      '{"text": "this body never ends',
    );
    const cut = await within(answer, REQUEST_TIMEOUT_MS * 5);
    req.destroy();
    assert.notEqual(
      cut,
      'pending',
      `the unfinished request is still open after ${REQUEST_TIMEOUT_MS * 5} ms`,
    );
    const got = cut as Answer;
    assert.ok(got.ms >= REQUEST_TIMEOUT_MS - 50, `cut off after ${got.ms} ms, not before the timeout`);
    const p = problemOf(got);
    assert.equal(p.status, 408);
    assert.match(p.detail ?? '', /did not arrive within 1000 ms \(HTTP_REQUEST_TIMEOUT_MS\)/);

    // The wait of a long poll starts once its request is in: three seconds are fine.
    const t0 = Date.now();
    const polled = await client(bare, source).get<Page>('/api/external/messages?wait=3&after_id=999999999');
    assert.equal(polled.status, 200, JSON.stringify(polled.body));
    assert.ok(Date.now() - t0 >= 2900, 'it waited its three seconds');
  });

  it('without a file store a multipart request with files is answered 503 at its first file part, unread', async () => {
    const source = await newSource(bare, 'no_store');
    const { answer, req } = openRequest(
      `${bare.url}/api/external/nostore/messages`,
      'POST',
      {
        authorization: `Bearer ${source.token}`,
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        'content-length': String(10 * 1024 * 1024),
      },
      `${multipartHead('big.bin')}${'x'.repeat(1000)}`,
    );
    const p = problemOf(await within(answer, 3000));
    req.destroy();
    assert.equal(p.status, 503);
    assert.match(p.detail ?? '', /Telegram is the file store/);
    // Text alone still works without a file store, multipart or not.
    const form = new FormData();
    form.append('text', 'just text');
    const text = await client(bare, source).post<Message>('/api/external/nostore/messages', { form });
    assert.equal(text.status, 201, JSON.stringify(text.body));
  });
});
