// Fault 5: random and malformed input on the two public webhooks, generated with fast-check:
// any JSON at all, bodies that are not JSON, and real Telegram updates / VK Callback API events
// (with the right secret) with fields deleted or replaced by values of the wrong type, out of range,
// huge or empty. Each must be answered 4xx, or 2xx and either recorded whole or ignored; never 5xx
// (a 503 with Retry-After, "not yet, deliver again", is allowed: nothing is appended with it). A
// refused or ignored payload appends nothing (td_events compared before and after each one), and
// what was recorded must not jam anything downstream: every projection and reactor reaches the head
// of the log afterwards, and valid updates are still carried both ways.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Update } from 'grammy/types';
import { decodeConversationEvent, decodeEventMetadata } from '../../src/adapters/event-codec.ts';
import { WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import type { StandInUser } from '../support/telegram-stand-in.ts';
import type { VkStandInUser } from '../support/vk-stand-in.ts';
import { startVkHarness, type VkHarness } from '../support/vk-stand-in-harness.ts';
import { FUZZ_RUNS, report, seconds, settled } from './support.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** Every path into a JSON value (object keys and array indexes), the root excluded. */
const pathsOf = (value: unknown, prefix: Path = []): Path[] => {
  if (value === null || typeof value !== 'object') return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
};

interface Mutation {
  readonly path: Path;
  /** undefined: delete the field. */
  readonly value: Json | undefined;
}

/** A copy of `base` with each mutation applied where its path still leads. */
const mutate = (base: unknown, mutations: readonly Mutation[]): unknown => {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  for (const { path, value } of mutations) {
    let parent: Record<string | number, unknown> | undefined = copy;
    for (const key of path.slice(0, -1)) {
      const next: unknown = parent?.[key];
      parent =
        next !== null && typeof next === 'object' ? (next as Record<string | number, unknown>) : undefined;
    }
    if (!parent) continue;
    const key = path.at(-1)!;
    if (value === undefined) {
      if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
      else delete parent[key];
    } else {
      // A copy: a later mutation on a path through this value must not change fast-check's own value
      // (it is reused when shrinking) nor make it refer to itself.
      parent[key] = structuredClone(value);
    }
  }
  return copy;
};

/** Values of the wrong kind, out of range, huge, empty. */
const oddValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    null,
    '',
    0,
    -1,
    1.5,
    2 ** 53,
    -(2 ** 63),
    1e308,
    true,
    [],
    {},
    'x'.repeat(70_000),
    '\u0000',
    '💥',
    [null],
    { id: 'x' },
  ),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

/** Another value of the same kind as `original`: well-formed input the app has not seen. */
const sameKind = (original: unknown): fc.Arbitrary<Json> => {
  if (typeof original === 'string') return fc.string({ maxLength: 60, unit: 'grapheme' });
  if (typeof original === 'number')
    return Number.isInteger(original) ? fc.integer({ min: -1, max: 2 ** 40 }) : fc.double({ noNaN: true });
  if (typeof original === 'boolean') return fc.boolean();
  return oddValue;
};

const valueAt = (root: unknown, path: Path): unknown =>
  path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], root);

/** 1–4 fields of `sample`'s shape deleted, made odd, or given another value of their kind. */
const mutations = (sample: unknown, paths: Path[]): fc.Arbitrary<Mutation[]> =>
  fc.array(
    fc.constantFrom(...paths).chain((path) =>
      fc.record({
        path: fc.constant(path),
        value: fc.option(fc.oneof(oddValue, sameKind(valueAt(sample, path))), { nil: undefined, freq: 4 }),
      }),
    ),
    { minLength: 1, maxLength: 4 },
  );

/** Bodies that are not JSON, or not what the content type says. */
const rawBody = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom('', '{', '{"update_id":', '[1,2', 'null', '"text"', '{"update_id": 1e999}', '\u0000\u0001'),
  fc.jsonValue().map((v) => JSON.stringify(v).slice(0, -1)), // truncated
);

/** "message (text)", "edited_message (text)", "message_new (photo)" … for the progress lines. */
const kindOf = (sample: unknown): string => {
  const o = sample as Record<string, Record<string, unknown> | undefined> & { type?: string };
  const key = o.type ?? Object.keys(o).find((k) => k !== 'update_id') ?? '?';
  const body = (o.type === 'message_new' ? o.object?.message : (o.object ?? o[key])) as Record<
    string,
    unknown
  >;
  const kind =
    Array.isArray(body?.attachments) && body.attachments.length > 0
      ? 'attachment'
      : body?.photo
        ? 'photo'
        : 'text';
  const where = (body?.chat as { type?: string } | undefined)?.type;
  return `${key} (${kind}${where && where !== 'private' ? ` in a ${where}` : ''})`;
};

interface Outcome {
  status: number;
  /** The Telegram webhook's outcome (recorded, duplicate, ignored). */
  outcome?: string;
  appended: number;
}

describe('fault: random and malformed Telegram updates and VK events', () => {
  let h: VkHarness;
  let tgClient: StandInUser;
  let topic: number;
  let vkClient: VkStandInUser;
  const outcomes: Outcome[] = [];
  const problems: string[] = [];

  /** Events appended by the webhooks (the reactors' own outcomes, actor `system`, aside). */
  const inbound = async (): Promise<number> =>
    (
      await h.db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM td_events WHERE metadata->'actor'->>'kind' IS DISTINCT FROM 'system'`,
      )
    ).rows[0]!.n;

  const post = async (path: string, body: string, headers: Record<string, string>): Promise<Outcome> => {
    const before = await inbound();
    const res = await fetch(`${h.app.address()}${path}`, { method: 'POST', headers, body });
    const text = await res.text();
    const appended = (await inbound()) - before;
    let outcome: string | undefined;
    try {
      outcome = (JSON.parse(text) as { outcome?: string }).outcome;
    } catch {}
    const o: Outcome = { status: res.status, appended, ...(outcome ? { outcome } : {}) };
    outcomes.push(o);
    const shown = `${path} ${body.slice(0, 300)} → ${res.status} ${text.slice(0, 200)}`;
    const retryLater = res.status === 503 && res.headers.get('retry-after') !== null;
    if (res.status >= 500 && !retryLater) problems.push(`5xx: ${shown}`);
    const refused = res.status >= 300 || outcome === 'ignored' || outcome === 'duplicate';
    if (refused && appended !== 0) problems.push(`appended ${appended} events though refused: ${shown}`);
    return o;
  };

  const postUpdate = (update: unknown) =>
    post('/webhooks/telegram', JSON.stringify(update), {
      'content-type': 'application/json',
      'x-telegram-bot-api-secret-token': WEBHOOK_SECRET,
    });
  const postVk = (event: unknown) =>
    post('/webhooks/vk', JSON.stringify(event), {
      'content-type': 'application/json',
      'user-agent': 'VKCallbackAPI',
    });

  /** Runs a property; every payload is checked in `post`, the property fails on the first problem. */
  const check = async <T>(name: string, arb: fc.Arbitrary<T>, run: (value: T) => Promise<unknown>) => {
    const started = Date.now();
    const from = outcomes.length;
    await fc.assert(
      fc.asyncProperty(arb, async (value) => {
        const seen = problems.length;
        await run(value);
        if (!process.env.FAULTS_FUZZ_COLLECT) assert.deepEqual(problems.slice(seen), []);
      }),
      { numRuns: FUZZ_RUNS },
    );
    const mine = outcomes.slice(from);
    const statuses = new Map<number, number>();
    for (const o of mine) statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
    console.log(
      `  ${name}: ${mine.length} payloads (${[...statuses].map(([s, n]) => `${s} ×${n}`).join(', ')}) in ${seconds(Date.now() - started)}`,
    );
  };

  before(async () => {
    h = await startVkHarness();
    tgClient = h.tg.addUser({ first_name: 'Fuzz', username: 'fuzz_client' });
    const first = h.tg.privateMessage(tgClient, { text: 'before the fuzz' });
    assert.equal((await postUpdate(first)).status, 200);
    topic = await waitFor(
      'the Telegram client’s topic',
      () => h.tg.topics().find((t) => t.name.startsWith('Fuzz ·'))?.message_thread_id,
    );
    vkClient = h.vk.addUser({ first_name: 'Vasya', last_name: 'Fuzzov' });
    assert.equal((await h.postEvent(h.vk.messageNew(vkClient, { text: 'before the fuzz' }))).status, 200);
    await waitFor('the VK client’s topic', () => h.tg.topics().find((t) => t.name.includes('Vasya Fuzzov')));
    outcomes.length = 0;
  });
  after(async () => {
    await h?.stop();
  });

  it('never a 5xx, never a partial write; valid traffic still flows afterwards', {
    timeout: 900_000,
  }, async () => {
    const t0 = Date.now();
    const manager = h.tg.addManager({ first_name: 'Fuzz manager' });
    const telegramBases: (() => Update)[] = [
      () => h.tg.privateMessage(tgClient, { text: 'fuzzed client message' }),
      () => h.tg.privateMessage(tgClient, { photo: true, caption: 'fuzzed photo' }),
      () => h.tg.groupMessage(manager, topic, { text: 'fuzzed answer' }),
      () => {
        const sent = h.tg.privateMessage(tgClient, { text: 'to be edited' }).message!;
        return h.tg.editedPrivateMessage(tgClient, sent.message_id, { text: 'fuzzed edit' });
      },
    ];
    const vkBases: (() => unknown)[] = [
      () => h.vk.body(h.vk.messageNew(vkClient, { text: 'fuzzed vk message' })),
      () =>
        h.vk.body(
          h.vk.messageNew(vkClient, {
            text: 'fuzzed vk photo',
            attachments: [h.vk.attachments.photo(vkClient)],
          }),
        ),
      () => {
        const m = h.vk.messageNew(vkClient, { text: 'vk to be edited' }).message;
        return h.vk.body(h.vk.messageEdit(m, { text: 'fuzzed vk edit' }));
      },
    ];

    // 1. Any JSON at all, with the right secret.
    await check('telegram: any JSON', fc.jsonValue(), (v) => postUpdate(v));
    // 2. A body that is not JSON (or not whole).
    await check('telegram: not JSON', rawBody, (body) =>
      post('/webhooks/telegram', body, {
        'content-type': 'application/json',
        'x-telegram-bot-api-secret-token': WEBHOOK_SECRET,
      }),
    );
    // 3. Real updates with fields deleted or of the wrong type.
    for (const base of telegramBases) {
      const sample = base();
      const paths = pathsOf(sample).filter((p) => p[0] !== 'update_id' || p.length > 1);
      await check(
        `telegram: ${kindOf(sample)} changed`,
        mutations(sample, [...paths, ['update_id']]),
        (ms) => {
          const update = base();
          // A fresh update_id unless the mutation is about it: a repeat would only be a duplicate.
          return postUpdate(mutate(update, ms));
        },
      );
    }
    // 4. VK: any JSON, any body, and real events changed (the secret and the community kept right).
    await check('vk: any JSON', fc.jsonValue(), (v) => postVk(v));
    await check(
      'vk: any message_new',
      fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })),
      (v) => postVk({ ...v, type: 'message_new', group_id: h.vk.groupId, secret: h.vk.secret }),
    );
    await check('vk: not JSON', rawBody, (body) =>
      post('/webhooks/vk', body, { 'content-type': 'application/json', 'user-agent': 'VKCallbackAPI' }),
    );
    for (const base of vkBases) {
      const sample = base();
      const paths = pathsOf(sample).filter((p) => p[0] !== 'secret' && p[0] !== 'group_id');
      await check(`vk: ${kindOf(sample)} changed`, mutations(sample, paths), (ms) =>
        postVk(mutate(base(), ms)),
      );
    }

    // Nothing jammed: whatever was recorded has been applied and carried (or refused by Telegram).
    const lagging = await settled(h.db.pool, 120_000);
    const { rows } = await h.db.pool.query<{ type: string; data: unknown; metadata: unknown }>(
      `SELECT type, data, metadata FROM td_events WHERE stream LIKE 'conversation-%'`,
    );
    const undecodable: string[] = [];
    for (const r of rows) {
      try {
        decodeConversationEvent(r);
        decodeEventMetadata(r.metadata);
      } catch (e) {
        undecodable.push(`${r.type}: ${(e as Error).message}`);
      }
    }

    // Valid traffic still flows, both ways, on both channels.
    const after = h.tg.privateMessage(tgClient, { text: 'after the fuzz' });
    assert.equal((await postUpdate(after)).outcome, 'recorded');
    await waitFor('the Telegram client’s message in the topic', () =>
      h.tg
        .messagesIn(h.tg.supportChatId)
        .find((m) => m.text === 'after the fuzz' && m.from?.id === h.tg.botInfo.id),
    );
    const answer = h.tg.groupMessage(manager, topic, { text: 'still here' });
    assert.equal((await postUpdate(answer)).outcome, 'recorded');
    await waitFor('the answer with the client', () =>
      h.tg.messagesIn(tgClient.id).find((m) => m.text === 'still here' && m.from?.id === h.tg.botInfo.id),
    );
    assert.equal(
      (await postVk(h.vk.body(h.vk.messageNew(vkClient, { text: 'vk after the fuzz' })))).status,
      200,
    );
    await waitFor('the VK message in the topic', () =>
      h.tg.messagesIn(h.tg.supportChatId).find((m) => m.text === 'vk after the fuzz'),
    );
    const health = await fetch(`${h.app.address()}/healthz`);

    const count = (p: (o: Outcome) => boolean) => outcomes.filter(p).length;
    const accepted = count((o) => o.status >= 200 && o.status < 300);
    const recorded = count((o) => o.status < 300 && o.appended > 0);
    report(
      'malformed input',
      {
        sent: outcomes.length,
        accepted,
        delivered: lagging.length === 0 ? accepted : 0,
        duplicated: 0,
        lost: lagging.length === 0 ? 0 : accepted,
      },
      `4xx ${count((o) => o.status >= 400 && o.status < 500)} (nothing appended), ` +
        `2xx ignored ${accepted - recorded} (nothing appended), 2xx recorded ${recorded}, ` +
        `503 retry-later ${count((o) => o.status === 503)}, other 5xx ${count((o) => o.status >= 500 && o.status !== 503)}, ` +
        `partial writes ${problems.filter((p) => p.startsWith('appended')).length}; ${seconds(Date.now() - t0)}`,
    );

    assert.deepEqual(problems, [], 'no 5xx, nothing appended for what was refused');
    assert.deepEqual(undecodable, [], 'every recorded event decodes');
    assert.deepEqual(lagging, [], 'every projection and reactor got through what was recorded');
    assert.equal(health.status, 200, 'the app still answers');
  });
});
