// Cursor polling under load: a poller reading the source-wide feed in small pages while messages
// keep arriving from concurrent POSTs sees every message exactly once, in strictly increasing order.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../support/app-harness.ts';
import { type ApiSource, apiEnv, client, type Message, newSource, type Page } from './api-helpers.ts';

const TOTAL = 1000;
const WRITERS = 12;
const CLIENTS = 25;

describe('external API: polling with cursors', () => {
  let h: Harness;
  let source: ApiSource;

  before(async () => {
    // Without the Telegram channel: this is about the read model and cursors, and carrying a
    // thousand messages into topics would only keep the machine busy.
    h = await startHarness(apiEnv({ TELEGRAM_BOT_TOKEN: '', TELEGRAM_SUPPORT_CHAT_ID: '' }));
    source = await newSource(h, 'poller');
  });
  after(async () => {
    await h.stop();
  });

  it(`a poller with limit=7 finds each of ${TOTAL} messages exactly once while they keep arriving`, async () => {
    const api = client(h, source);
    const posted = new Set<string>();
    let next = 0;
    let writing = true;
    const writers = Array.from({ length: WRITERS }, async () => {
      for (let i = next++; i < TOTAL; i = next++) {
        const r = await api.post<Message>(`/api/external/client-${i % CLIENTS}/messages`, {
          json: { text: `message ${i}` },
        });
        // 202: recorded, listed a little later — the poller must still see it exactly once.
        assert.ok(r.status === 201 || r.status === 202, JSON.stringify(r.body));
        posted.add(r.body.id);
      }
    });
    const allWritten = Promise.all(writers).finally(() => {
      writing = false;
    });

    const seen = new Map<string, number>();
    const cursors: number[] = [];
    let after = 0;
    let polls = 0;
    const deadline = Date.now() + 240_000;
    // Keep polling until the writers are done and a poll finds nothing new.
    for (;;) {
      const stillWriting = writing;
      const page = await api.get<Page>(`/api/external/messages?limit=7&after_id=${after}`);
      polls++;
      assert.equal(page.status, 200);
      assert.ok(page.body.messages.length <= 7);
      for (const m of page.body.messages) {
        seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
        cursors.push(m.cursor);
      }
      assert.equal(page.body.next_cursor, page.body.messages.at(-1)?.cursor ?? after);
      after = page.body.next_cursor!;
      if (!stillWriting && page.body.messages.length === 0) break;
      assert.ok(Date.now() < deadline, 'polling took too long');
      if (page.body.messages.length === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await allWritten;

    assert.equal(posted.size, TOTAL);
    const repeated = [...seen].filter(([, n]) => n > 1);
    assert.deepEqual(repeated, [], 'no message seen twice');
    const missed = [...posted].filter((id) => !seen.has(id));
    assert.deepEqual(missed, [], 'no message missed');
    assert.equal(seen.size, TOTAL);
    for (let i = 1; i < cursors.length; i++)
      assert.ok(cursors[i]! > cursors[i - 1]!, 'cursors strictly increase');
    assert.ok(polls > TOTAL / 7, `${polls} polls`);
  });
});
