// Ids that cannot collide: an Idempotency-Key, a client's external id and a source's code are free
// text, and no combination of them may make two different requests share a message or event id —
// which once made the second request loop for ever in the command handler.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { type Harness, startHarness } from '../support/app-harness.ts';
import { type ApiSource, apiEnv, client, type Message, newSource } from './api-helpers.ts';

/** Every request must be answered within this; a loop would hold it for ever. */
const ANSWER_WITHIN_MS = 15_000;

const post = async (h: Harness, source: ApiSource, externalId: string, key: string, text: string) => {
  const res = await fetch(`${h.url}/api/external/${encodeURIComponent(externalId)}/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${source.token}`,
      'content-type': 'application/json',
      'idempotency-key': key,
    },
    body: JSON.stringify({ text }),
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  });
  return { status: res.status, body: (await res.json()) as Message };
};

/** A key as the contract takes it: printable ASCII as it is, anything else percent-encoded. */
const headerSafe = (s: string) =>
  s.replace(/[^!-~]/gu, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%ED%A0%80'; // a lone surrogate
    }
  });

describe('external API: ids of different requests never collide', () => {
  let h: Harness;
  let shop: ApiSource;
  let shopB: ApiSource;

  before(async () => {
    h = await startHarness(apiEnv());
    shop = await newSource(h, 'a');
    shopB = await newSource(h, 'a-b');
  });
  after(async () => {
    await h.stop();
  });

  it('"a" with key "b:c" and "a:b" with key "c" are two messages, both answered', async () => {
    const first = await post(h, shop, 'a', 'b:c', 'first');
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const second = await post(h, shop, 'a:b', 'c', 'second');
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.notEqual(second.body.id, first.body.id);
    // Both facts: when it was sent (the request) and when the log recorded it.
    const sent = Date.parse(first.body.created_at);
    const recorded = Date.parse(String(first.body.recorded_at));
    assert.ok(recorded >= sent - 1000 && recorded - sent < 10_000, JSON.stringify(first.body));
    assert.equal(second.body.text, 'second');
    const listed = await client(h, shop).get<{ messages: Message[] }>('/api/external/a:b/messages');
    assert.deepEqual(
      listed.body.messages.map((m) => m.text),
      ['second'],
    );
  });

  it('random sources, external ids and keys full of ":", "/" and unicode: each recorded once, each answered', async () => {
    const part = fc.oneof(
      fc.constantFrom(':', '/', 'a', 'b', ':b', 'a:', 'ж', '😀', '%3A', '::'),
      fc.string({ minLength: 1, maxLength: 4 }),
    );
    const piece = fc.array(part, { minLength: 1, maxLength: 3 }).map((p) => p.join(''));
    const sent = new Map<string, { id: string; text: string }>();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('a', 'a-b'),
        // The contract's shapes: an external id without whitespace or '/', a key of printable ASCII.
        piece.filter((e) => /^[^\s/]{1,128}$/u.test(e) && e !== '.' && e !== '..' && e !== 'files'),
        piece.map(headerSafe).filter((k) => /^[!-~]{1,255}$/.test(k)),
        async (code, externalId, key) => {
          const source = code === 'a' ? shop : shopB;
          const id = JSON.stringify([code, externalId, key]);
          const earlier = sent.get(id);
          const text = earlier?.text ?? `message ${++n}`;
          const started = Date.now();
          const res = await post(h, source, externalId, key, text);
          assert.ok(Date.now() - started < ANSWER_WITHIN_MS);
          if (earlier) {
            // The same request again: the same message, replayed.
            assert.equal(res.status, 200, JSON.stringify(res.body));
            assert.equal(res.body.id, earlier.id);
          } else {
            assert.equal(res.status, 201, `${id}: ${JSON.stringify(res.body)}`);
            for (const [other, m] of sent)
              assert.notEqual(res.body.id, m.id, `${id} got the message of ${other}`);
            sent.set(id, { id: res.body.id, text });
          }
        },
      ),
      { numRuns: Number(process.env.API_IDS_RUNS ?? 120) },
    );
    // Each distinct request is one message in the log.
    const { rows } = await h.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM td_events WHERE type = 'ClientMessageReceived'
         AND metadata->'actor'->>'kind' = 'source'`,
    );
    assert.equal(rows[0]!.n, sent.size + 2);
  });
});
