// A client written against tg-support-bot v3's external API keeps working: it sends `source` and
// `external_id` along, files as `uploaded_file`, lists with `type_sort`, `offset`, `date_start`,
// `date_end` ('Y-m-d H:i:s') and `after_id`, and edits and deletes with `message_id` in the body
// (the new text in v3's `message`). Only the path carries the client id now.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import { type ApiSource, apiEnv, client, type Message, newSource, type Page } from './api-helpers.ts';

/** What a v3 integration does, with its own field names. */
const v3Client = (h: Harness, source: ApiSource, sourceName: string) => {
  const api = client(h, source);
  const base = (externalId: string) => `/api/external/${encodeURIComponent(externalId)}/messages`;
  return {
    send: (externalId: string, text: string) =>
      api.post<Message>(base(externalId), { json: { source: sourceName, external_id: externalId, text } }),
    sendFile: (externalId: string, text: string, name: string, bytes: Buffer) => {
      const form = new FormData();
      form.append('source', sourceName);
      form.append('external_id', externalId);
      form.append('text', text);
      form.append('uploaded_file', new Blob([bytes]), name);
      return api.post<Message>(base(externalId), { form });
    },
    list: (externalId: string, filters: Record<string, string | number>) => {
      const q = new URLSearchParams({ source: sourceName, external_id: externalId });
      for (const [k, v] of Object.entries(filters)) q.set(k, String(v));
      return api.get<Page>(`${base(externalId)}?${q}`);
    },
    show: (externalId: string, id: string) => api.get<Message>(`${base(externalId)}/${id}`),
    update: (externalId: string, messageId: string, message: string) =>
      api.put<Message>(base(externalId), {
        json: { source: sourceName, external_id: externalId, message_id: messageId, message },
      }),
    destroy: (externalId: string, messageId: string) =>
      api.del<Message>(base(externalId), {
        json: { source: sourceName, external_id: externalId, message_id: messageId },
      }),
  };
};

describe('external API: tg-support-bot v3 compatibility', () => {
  let h: Harness;
  let v3: ReturnType<typeof v3Client>;

  before(async () => {
    h = await startHarness(apiEnv());
    v3 = v3Client(h, await newSource(h, 'live_chat'), 'live_chat');
  });
  after(async () => {
    await h.stop();
  });

  it('sends, lists with v3 filters, edits and deletes with message_id in the body', async () => {
    const user = 'a1b2c3d4e5f6';
    const ids: string[] = [];
    for (const text of ['first', 'second', 'third', 'fourth']) {
      const r = await v3.send(user, text);
      assert.equal(r.status, 201);
      ids.push(r.body.id);
    }
    const file = await v3.sendFile(user, 'a screenshot', 'screen.png', Buffer.from('png-bytes'));
    assert.equal(file.status, 201, JSON.stringify(file.body));
    assert.equal(file.body.attachments[0]?.file_name, 'screen.png');
    ids.push(file.body.id);

    const desc = await v3.list(user, { type_sort: 'desc', limit: 2, offset: 1 });
    assert.equal(desc.status, 200);
    assert.deepEqual(
      desc.body.messages.map((m) => m.text),
      ['fourth', 'third'],
    );
    const asc = await v3.list(user, { type_sort: 'asc', limit: 10 });
    assert.deepEqual(
      asc.body.messages.map((m) => m.id),
      ids,
    );
    const afterSecond = await v3.list(user, { after_id: asc.body.messages[1]!.cursor });
    assert.deepEqual(
      afterSecond.body.messages.map((m) => m.text),
      ['third', 'fourth', 'a screenshot'],
    );
    const now = new Date();
    const fmt = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' '); // v3's 'Y-m-d H:i:s'
    const window = await v3.list(user, {
      date_start: fmt(new Date(now.getTime() - 3_600_000)),
      date_end: fmt(new Date(now.getTime() + 3_600_000)),
    });
    assert.equal(window.body.messages.length, 5);
    const before = await v3.list(user, { date_end: '2000-01-01' });
    assert.equal(before.body.messages.length, 0);

    const edited = await v3.update(user, ids[0]!, 'first (edited)');
    assert.equal(edited.status, 200);
    assert.equal(edited.body.text, 'first (edited)');
    assert.equal((await v3.show(user, ids[0]!)).body.text, 'first (edited)');

    const deleted = await v3.destroy(user, ids[1]!);
    assert.equal(deleted.status, 200);
    assert.ok(deleted.body.deleted_at);
    const remaining = await v3.list(user, { type_sort: 'asc' });
    assert.deepEqual(
      remaining.body.messages.map((m) => m.text),
      ['first (edited)', 'third', 'fourth', 'a screenshot'],
    );

    // The edit reached the copy in the topic, as any client edit does.
    const topic = await waitFor('the topic', () => h.tg.topics().find((t) => t.name.includes(user)));
    await waitFor('the edited copy', () =>
      h.tg.messagesIn(h.tg.supportChatId, topic.message_thread_id).find((m) => m.text === 'first (edited)'),
    );
  });

  it('refuses an external_id in the body or query that disagrees with the path', async () => {
    const source = await newSource(h, 'crm_v3');
    const api = v3Client(h, source, 'crm_v3');
    const sent = await api.send('client-9', 'hello');
    const raw = client(h, source);
    const wrong = await raw.put<{ errors: Array<{ field: string }> }>('/api/external/client-9/messages', {
      json: { external_id: 'client-10', message_id: sent.body.id, message: 'x' },
    });
    assert.equal(wrong.status, 400);
    assert.deepEqual(
      wrong.body.errors.map((e) => e.field),
      ['body.external_id'],
    );
    const list = await raw.get('/api/external/client-9/messages?external_id=client-10');
    assert.equal(list.status, 400);
    assert.equal((await api.show('client-9', sent.body.id)).body.text, 'hello');
  });
});
