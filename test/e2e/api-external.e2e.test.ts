// The external sources API end to end: the whole app on a real PostgreSQL, the Telegram stand-in
// as the support group (and the file store), a source talking to /api/external over HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import {
  type ApiSource,
  apiEnv,
  client,
  fieldsOf,
  type Message,
  newSource,
  type Page,
  type Problem,
  sourceEventCount,
} from './api-helpers.ts';

describe('external API: messages', () => {
  let h: Harness;
  let site: ApiSource;
  let crm: ApiSource;
  let api: ReturnType<typeof client>;
  let other: ReturnType<typeof client>;

  before(async () => {
    h = await startHarness(apiEnv());
    site = await newSource(h, 'site');
    crm = await newSource(h, 'crm');
    api = client(h, site);
    other = client(h, crm);
  });
  after(async () => {
    await h.stop();
  });

  const topicOf = (externalId: string) =>
    waitFor(`the topic of ${externalId}`, () => h.tg.topics().find((t) => t.name.includes(externalId)));

  it('a message goes into a forum topic; the manager answer there comes back as outgoing', async () => {
    const sent = await api.post<Message>('/api/external/cust-1/messages', {
      json: { text: 'Hi from the website chat' },
    });
    assert.equal(sent.status, 201);
    assert.equal(sent.body.direction, 'incoming');
    assert.equal(sent.body.external_id, 'cust-1');
    assert.equal(sent.body.text, 'Hi from the website chat');
    assert.equal(typeof sent.body.cursor, 'number');
    assert.equal(sent.headers.get('location'), `/api/external/cust-1/messages/${sent.body.id}`);

    const topic = await topicOf('cust-1');
    await waitFor('the message in the topic', () =>
      h.tg
        .messagesIn(h.tg.supportChatId, topic.message_thread_id)
        .find((m) => m.text === 'Hi from the website chat'),
    );
    const forwarded = await waitFor('status forwarded', async () => {
      const r = await api.get<Message>(`/api/external/cust-1/messages/${sent.body.id}`);
      return r.body.status === 'forwarded' ? r.body : undefined;
    });
    assert.equal(forwarded.cursor, sent.body.cursor);

    const manager = h.tg.addManager({ first_name: 'Alice' });
    const answer = await h.postUpdate(
      h.tg.groupMessage(manager, topic.message_thread_id, { text: 'Hello! How can we help?' }),
    );
    assert.equal(answer.status, 200);
    const outgoing = await waitFor('the answer in the list', async () => {
      const r = await api.get<Page>('/api/external/cust-1/messages?direction=outgoing');
      return r.body.messages.length > 0 ? r.body.messages : undefined;
    });
    assert.equal(outgoing.length, 1);
    assert.equal(outgoing[0]!.text, 'Hello! How can we help?');
    assert.ok(outgoing[0]!.cursor > sent.body.cursor);
    assert.ok(!JSON.stringify(outgoing[0]).includes(String(manager.id)), 'no manager id is exposed');

    const all = await api.get<Page>('/api/external/cust-1/messages');
    assert.deepEqual(
      all.body.messages.map((m) => [m.direction, m.text]),
      [
        ['incoming', 'Hi from the website chat'],
        ['outgoing', 'Hello! How can we help?'],
      ],
    );
    const feed = await api.get<Page>(
      `/api/external/messages?after_id=${sent.body.cursor}&direction=outgoing`,
    );
    assert.deepEqual(
      feed.body.messages.map((m) => m.id),
      [outgoing[0]!.id],
    );

    // A manager's answer is not the source's to change.
    const edit = await api.put<Problem>(`/api/external/cust-1/messages/${outgoing[0]!.id}`, {
      json: { text: 'rewritten' },
    });
    assert.equal(edit.status, 409);
    assert.equal(edit.body.code, 'not_a_client_message');
    const del = await api.del<Problem>(`/api/external/cust-1/messages/${outgoing[0]!.id}`);
    assert.equal(del.status, 409);
  });

  it('files are uploaded to Telegram first, recorded by file_id, carried to the topic and served back', async () => {
    const form = new FormData();
    form.append('text', 'The invoice is attached');
    const pdf = Buffer.from('%PDF-1.7 fake invoice bytes');
    form.append('files', new Blob([pdf], { type: 'application/pdf' }), 'invoice.pdf');
    const uploadsBefore = h.tg.callsTo('sendDocument').length;
    const sent = await api.post<Message>('/api/external/cust-files/messages', { form });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    assert.equal(sent.body.text, 'The invoice is attached');
    assert.equal(sent.body.attachments.length, 1);
    const att = sent.body.attachments[0]!;
    assert.equal(att.kind, 'document');
    assert.equal(att.file_name, 'invoice.pdf');
    assert.equal(att.mime_type, 'application/pdf');
    assert.equal(att.size, pdf.length);
    assert.equal(att.url, `/api/external/files/${encodeURIComponent(att.id)}`);

    // The event records Telegram's file_id, and the helper upload was removed from the group.
    const { rows } = await h.db.pool.query<{ data: { attachments: Array<{ fileRef: string }> } }>(
      `SELECT data FROM td_events WHERE type = 'ClientMessageReceived' AND data->>'messageId' = $1`,
      [sent.body.id],
    );
    const fileRef = rows[0]!.data.attachments[0]!.fileRef;
    assert.deepEqual(h.tg.fileBytes(fileRef), pdf);
    const helper = h.tg.callsTo('sendDocument')[uploadsBefore]!;
    assert.equal(helper.params.chat_id, h.tg.supportChatId, 'uploaded to the support group');
    await waitFor(
      'the helper upload deleted',
      () => h.tg.generalMessages().every((m) => m.document?.file_id !== fileRef) || undefined,
    );

    const topic = await topicOf('cust-files');
    const inTopic = await waitFor('the file in the topic', () =>
      h.tg
        .messagesIn(h.tg.supportChatId, topic.message_thread_id)
        .find((m) => m.document?.file_unique_id === att.id),
    );
    assert.equal(inTopic.caption, 'The invoice is attached');

    const file = await fetch(`${h.url}${att.url}`, { headers: { authorization: `Bearer ${site.token}` } });
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('content-type'), 'application/pdf');
    assert.match(file.headers.get('content-disposition') ?? '', /invoice\.pdf/);
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), pdf);

    // Another source cannot fetch it; an unknown id is not found either.
    assert.equal((await other.get(att.url!)).status, 404);
    assert.equal((await api.get('/api/external/files/AgADnothing')).status, 404);
  });

  it('edits and deletes the client message; the log keeps both, a deleted message refuses edits', async () => {
    const sent = await api.post<Message>('/api/external/cust-edit/messages', { json: { text: 'first try' } });
    const path = `/api/external/cust-edit/messages/${sent.body.id}`;
    const edited = await api.put<Message>(path, { json: { text: 'second try' } });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.text, 'second try');
    assert.ok(edited.body.edited_at);
    assert.equal(edited.body.cursor, sent.body.cursor, 'an edit keeps the cursor');

    const same = await api.put<Message>(path, { json: { text: 'second try' } });
    assert.equal(same.status, 200);
    const { rows } = await h.db.pool.query(
      `SELECT type FROM td_events WHERE data->>'messageId' = $1
         AND type IN ('ClientMessageReceived', 'ClientMessageEdited') ORDER BY position`,
      [sent.body.id],
    );
    assert.deepEqual(
      rows.map((r) => r.type),
      ['ClientMessageReceived', 'ClientMessageEdited'],
      'the same text again is not an edit',
    );

    const deleted = await api.del<Message>(path);
    assert.equal(deleted.status, 200);
    assert.ok(deleted.body.deleted_at);
    const again = await api.del<Message>(path);
    assert.equal(again.status, 200, 'deleting again answers the same');
    assert.equal(again.body.deleted_at, deleted.body.deleted_at);

    const refused = await api.put<Problem>(path, { json: { text: 'third try' } });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'message_deleted');

    const visible = await api.get<Page>('/api/external/cust-edit/messages');
    assert.equal(visible.body.messages.length, 0, 'deleted messages are left out by default');
    const withDeleted = await api.get<Page>('/api/external/cust-edit/messages?include_deleted=true');
    assert.equal(withDeleted.body.messages.length, 1);
    assert.equal((await api.get<Message>(path)).body.text, 'second try');
  });

  it('an Idempotency-Key makes a retry safe: one event, the same message', async () => {
    const key = 'order-1042-msg-1';
    const before = await sourceEventCount(h);
    const first = await api.post<Message>('/api/external/cust-idem/messages', {
      json: { text: 'please call me' },
      headers: { 'idempotency-key': key },
    });
    const second = await api.post<Message>('/api/external/cust-idem/messages', {
      json: { text: 'please call me' },
      headers: { 'idempotency-key': key },
    });
    assert.equal(first.status, 201);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.body.id, first.body.id);
    assert.equal(second.body.cursor, first.body.cursor);
    assert.equal(await sourceEventCount(h), before + 2, 'ConversationStarted and one ClientMessageReceived');

    const reused = await api.post<Problem>('/api/external/cust-idem/messages', {
      json: { text: 'something else' },
      headers: { 'idempotency-key': key },
    });
    assert.equal(reused.status, 409);
    assert.equal(await sourceEventCount(h), before + 2);

    // With files, a repeat does not upload them again.
    const form = () => {
      const f = new FormData();
      f.append('files', new Blob([Buffer.from('png bytes')], { type: 'image/png' }), 'shot.png');
      return f;
    };
    // Uploads only: the reactor re-sends the stored file into the topic with sendDocument(file_id).
    const uploadCalls = () => h.tg.callsTo('sendDocument').filter((c) => c.uploads.length > 0).length;
    const uploads = uploadCalls();
    const a = await api.post<Message>('/api/external/cust-idem/messages', {
      form: form(),
      headers: { 'idempotency-key': 'with-file' },
    });
    const b = await api.post<Message>('/api/external/cust-idem/messages', {
      form: form(),
      headers: { 'idempotency-key': 'with-file' },
    });
    assert.equal(a.status, 201);
    assert.equal(b.status, 200);
    assert.equal(b.body.id, a.body.id);
    assert.equal(uploadCalls(), uploads + 1);
  });

  it('a reply_to points inside the conversation; anything else is refused and nothing is recorded', async () => {
    const first = await api.post<Message>('/api/external/cust-reply/messages', {
      json: { text: 'question' },
    });
    const reply = await api.post<Message>('/api/external/cust-reply/messages', {
      json: { text: 'more detail', reply_to: first.body.id },
    });
    assert.equal(reply.status, 201);
    assert.equal(reply.body.reply_to, first.body.id);
    const before = await sourceEventCount(h);
    const bad = await api.post<Problem>('/api/external/cust-reply/messages', {
      json: { text: 'detail', reply_to: 'no-such-message' },
    });
    assert.equal(bad.status, 422);
    assert.deepEqual(fieldsOf(bad.body), ['body.reply_to']);
    assert.equal(await sourceEventCount(h), before);
  });

  it("a source sees only its own conversations: another source's ids are 404, its feed never shows them", async () => {
    const mine = await api.post<Message>('/api/external/shared-7/messages', {
      json: { text: 'site secret' },
    });
    assert.equal(mine.status, 201);

    assert.equal((await other.get('/api/external/shared-7/messages')).status, 404);
    assert.equal((await other.get(`/api/external/shared-7/messages/${mine.body.id}`)).status, 404);
    assert.equal(
      (await other.put(`/api/external/shared-7/messages/${mine.body.id}`, { json: { text: 'x' } })).status,
      404,
    );
    assert.equal((await other.del(`/api/external/shared-7/messages/${mine.body.id}`)).status, 404);
    assert.equal(
      (await other.put('/api/external/shared-7/messages', { json: { message_id: mine.body.id, text: 'x' } }))
        .status,
      404,
    );

    // The same externalId in the other source is another conversation altogether.
    const theirs = await other.post<Message>('/api/external/shared-7/messages', {
      json: { text: 'crm note' },
    });
    assert.equal(theirs.status, 201);
    assert.notEqual(theirs.body.id, mine.body.id);
    const theirList = await other.get<Page>('/api/external/shared-7/messages');
    assert.deepEqual(
      theirList.body.messages.map((m) => m.text),
      ['crm note'],
    );
    const feed = await other.get<Page>('/api/external/messages?limit=200');
    assert.ok(feed.body.messages.every((m) => m.text !== 'site secret'));
    assert.ok(feed.body.messages.some((m) => m.text === 'crm note'));
    const mineAgain = await api.get<Message>(`/api/external/shared-7/messages/${mine.body.id}`);
    assert.equal(mineAgain.body.text, 'site secret');
  });

  it('a long poll answers within 100 ms of a new message (median of 5)', async () => {
    const lags: number[] = [];
    for (let i = 0; i < 5; i++) {
      const head = (await api.get<Page>('/api/external/messages?sort=asc&limit=200&after_id=0')).body;
      let after = head.next_cursor ?? 0;
      for (let more = head.has_more; more; ) {
        const p = (await api.get<Page>(`/api/external/messages?limit=200&after_id=${after}`)).body;
        after = p.next_cursor ?? after;
        more = p.has_more;
      }
      let resolvedAt = 0;
      const poll = api.get<Page>(`/api/external/messages?wait=10&after_id=${after}`).then((r) => {
        resolvedAt = performance.now();
        return r;
      });
      await new Promise((r) => setTimeout(r, 150)); // the poll is waiting by now
      const sent = await api.post<Message>('/api/external/cust-poll/messages', {
        json: { text: `ping ${i}` },
      });
      const createdAt = performance.now();
      const got = await poll;
      assert.equal(sent.status, 201);
      assert.equal(got.status, 200);
      assert.deepEqual(
        got.body.messages.map((m) => m.id),
        [sent.body.id],
        JSON.stringify(got.body),
      );
      lags.push(resolvedAt - createdAt);
    }
    lags.sort((a, b) => a - b);
    const median = lags[2]!;
    assert.ok(median < 100, `long poll lag after the 201: ${lags.map((l) => l.toFixed(1)).join(', ')} ms`);
  });

  it('a long poll with nothing new answers an empty page after `wait`, keeping the cursor', async () => {
    const started = performance.now();
    const r = await other.get<Page>('/api/external/messages?wait=1&after_id=999999999');
    const took = performance.now() - started;
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { messages: [], next_cursor: 999999999, has_more: false });
    assert.ok(took >= 950 && took < 3000, `took ${took} ms`);
  });

  it('lists filter by direction and dates, paginate both ways and name their bad parameters', async () => {
    for (const text of ['one', 'two', 'three', 'four', 'five'])
      await api.post('/api/external/cust-pages/messages', { json: { text } });
    const asc: string[] = [];
    let after = 0;
    for (;;) {
      const p = (await api.get<Page>(`/api/external/cust-pages/messages?limit=2&after_id=${after}`)).body;
      asc.push(...p.messages.map((m) => m.text));
      after = p.next_cursor!;
      if (!p.has_more) break;
    }
    assert.deepEqual(asc, ['one', 'two', 'three', 'four', 'five']);
    const desc: string[] = [];
    let before: number | null = null;
    do {
      const q: string = before === null ? '' : `&before_id=${before}`;
      const p: Page = (await api.get<Page>(`/api/external/cust-pages/messages?sort=desc&limit=2${q}`)).body;
      desc.push(...p.messages.map((m) => m.text));
      before = p.next_cursor;
    } while (before !== null);
    assert.deepEqual(desc, ['five', 'four', 'three', 'two', 'one']);

    const today = new Date().toISOString().slice(0, 10);
    const inDay = await api.get<Page>(
      `/api/external/cust-pages/messages?date_start=${today}&date_end=${today}`,
    );
    assert.equal(inDay.body.messages.length, 5);
    const future = await api.get<Page>('/api/external/cust-pages/messages?date_start=2999-01-01T00:00:00Z');
    assert.equal(future.body.messages.length, 0);
    assert.equal(
      (await api.get<Page>('/api/external/cust-pages/messages?direction=outgoing')).body.messages.length,
      0,
    );

    const bad = await api.get<Problem>(
      '/api/external/cust-pages/messages?limit=500&direction=sideways&date_start=yesterday&sort=up',
    );
    assert.equal(bad.status, 400);
    assert.deepEqual(fieldsOf(bad.body), [
      'query.date_start',
      'query.direction',
      'query.limit',
      'query.sort',
    ]);
    const badDate = await api.get<Problem>('/api/external/cust-pages/messages?date_end=2026-02-30');
    assert.equal(badDate.status, 400);
    assert.deepEqual(fieldsOf(badDate.body), ['query.date_end']);
  });
});

describe('external API: a write the listing has not caught up with', () => {
  let h: Harness;
  let api: ReturnType<typeof client>;

  before(async () => {
    // No wait at all: every write answers before the messages projection can have listed it.
    h = await startHarness(apiEnv({ API_WRITE_WAIT_MS: '0' }));
    api = client(h, await newSource(h, 'late'));
  });
  after(async () => {
    await h.stop();
  });

  it('answers 202 with the recorded message and no cursor; a retry with its key gives the same message', async () => {
    const headers = { 'idempotency-key': 'order-7-question' };
    // Held, so the answer cannot race the projection: a runner woken after a quiet spell lists at once.
    const release = await holdListing();
    let sent: Awaited<ReturnType<typeof api.post<Message>>>;
    try {
      sent = await api.post<Message>('/api/external/slow-1/messages', {
        json: { text: 'Is order 7 shipped?' },
        headers,
      });
      assert.equal(sent.status, 202);
      assert.equal(sent.body.text, 'Is order 7 shipped?');
      assert.equal(sent.body.direction, 'incoming');
      assert.equal(sent.body.status, 'received');
      assert.equal(sent.body.cursor, null, 'not listed yet, so no cursor');
      assert.equal(sent.headers.get('location'), `/api/external/slow-1/messages/${sent.body.id}`);

      const again = await api.post<Message>('/api/external/slow-1/messages', {
        json: { text: 'Is order 7 shipped?' },
        headers,
      });
      assert.equal(again.status, 202, 'still not listed');
      assert.equal(again.body.id, sent.body.id, 'the same message, not a second one');
    } finally {
      await release();
    }

    const listed = await waitFor('the message in the listing', async () => {
      const r = await api.get<Message>(`/api/external/slow-1/messages/${sent.body.id}`);
      return r.status === 200 ? r.body : undefined;
    });
    assert.equal(typeof listed.cursor, 'number');
    const { rows } = await h.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM td_events WHERE type = 'ClientMessageReceived' AND data->>'messageId' = $1`,
      [sent.body.id],
    );
    assert.equal(rows[0]!.n, 1, 'recorded once');
  });

  /** Keeps the messages projection from listing anything until released (reads go on). */
  const holdListing = async () => {
    const held = await h.db.pool.connect();
    await held.query('BEGIN');
    await held.query('LOCK TABLE rm_messages IN EXCLUSIVE MODE');
    return async () => {
      await held.query('COMMIT');
      held.release();
    };
  };

  it('a retry answered before the listing has it says when the message was sent, not when it was retried', async () => {
    const release = await holdListing();
    try {
      const headers = { 'idempotency-key': 'order-8-question' };
      const post = () =>
        api.post<Message>('/api/external/slow-2/messages', {
          json: { text: 'Is order 8 shipped?' },
          headers,
        });
      const sent = await post();
      await new Promise((r) => setTimeout(r, 20));
      const again = await post();
      assert.deepEqual([sent.status, again.status], [202, 202], 'neither listed yet');
      assert.equal(again.body.id, sent.body.id);
      assert.equal(again.body.created_at, sent.body.created_at);
    } finally {
      await release();
    }
  });

  it('a second DELETE answered before the listing has the first says the message is deleted', async () => {
    const sent = await api.post<Message>('/api/external/slow-3/messages', { json: { text: 'typo' } });
    const path = `/api/external/slow-3/messages/${sent.body.id}`;
    await waitFor('the message in the listing', async () =>
      (await api.get(path)).status === 200 ? true : undefined,
    );
    const release = await holdListing();
    try {
      const first = await api.del<Message>(path);
      const second = await api.del<Message>(path);
      assert.deepEqual([first.status, second.status], [200, 200]);
      assert.ok(first.body.deleted_at, 'the first answer says deleted');
      assert.equal(second.body.deleted_at, first.body.deleted_at, 'the same answer as deleting it again');
    } finally {
      await release();
    }
  });
});
