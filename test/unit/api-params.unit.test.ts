// The external API's pure pieces: date filters, sort names, unstorable strings, file names, the
// rate limiter and the read-model watcher's wake-ups.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createHeadWatcher, type ListedRows } from '../../src/adapters/api/head-watcher.ts';
import {
  cleanFileName,
  cleanMimeType,
  contentDisposition,
  parseDateFilter,
  sortOf,
  unstorableStrings,
} from '../../src/adapters/api/params.ts';
import { createRateLimiter } from '../../src/adapters/api/rate-limit.ts';
import { type ApiMessageRow, attachmentIdOf } from '../../src/adapters/api/read-model.ts';

describe('date filters', () => {
  it('reads ISO 8601 and tg-support-bot v3 forms; no offset means UTC', () => {
    const at = (v: string, edge: 'start' | 'end' = 'start') => parseDateFilter(v, edge)?.at.toISOString();
    assert.equal(at('2026-01-31'), '2026-01-31T00:00:00.000Z');
    assert.equal(at('2026-01-31T10:20'), '2026-01-31T10:20:00.000Z');
    assert.equal(at('2026-01-31 10:20:30'), '2026-01-31T10:20:30.000Z');
    assert.equal(at('2026-01-31T10:20:30.5Z'), '2026-01-31T10:20:30.500Z');
    assert.equal(at('2026-01-31T10:20:30+03:00'), '2026-01-31T07:20:30.000Z');
    assert.equal(at('2026-01-31T10:20:30-0130'), '2026-01-31T11:50:30.000Z');
    assert.equal(at('2026-01-31T00:30:00+01'), '2026-01-30T23:30:00.000Z');
  });

  it('a date alone as the end covers the whole day (exclusive next midnight)', () => {
    assert.deepEqual(parseDateFilter('2026-12-31', 'end'), {
      at: new Date('2027-01-01T00:00:00.000Z'),
      exclusive: true,
    });
    assert.equal(parseDateFilter('2026-12-31T23:59:59', 'end')?.exclusive, false);
  });

  it('refuses impossible dates', () => {
    for (const v of [
      '2026-02-30',
      '2025-02-29',
      '2026-13-01',
      '2026-00-10',
      '0000-01-01',
      '2026-01-01T24:00',
      'yesterday',
    ])
      assert.equal(parseDateFilter(v, 'start'), undefined, v);
    assert.ok(parseDateFilter('2024-02-29', 'start'));
  });

  it('agrees with Date for every valid UTC moment', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0001-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        (d) => {
          const iso = d.toISOString();
          if (!/^\d{4}-/.test(iso)) return;
          assert.equal(parseDateFilter(iso, 'start')?.at.getTime(), d.getTime());
        },
      ),
    );
  });
});

describe('query and body helpers', () => {
  it('sort: `sort` wins over v3 `type_sort`, case-insensitive, ascending by default', () => {
    assert.equal(sortOf(undefined, undefined), 'asc');
    assert.equal(sortOf(undefined, 'DESC'), 'desc');
    assert.equal(sortOf('asc', 'desc'), 'asc');
    assert.equal(sortOf('Desc', undefined), 'desc');
  });

  it('names every string PostgreSQL could not store', () => {
    assert.deepEqual(
      unstorableStrings(
        { text: 'a\u0000', ok: 'fine 😀', list: ['x', '\uD800'], deep: { y: 'z\uDC00' } },
        'body',
      ).map((e) => e.field),
      ['body.text', 'body.list.1', 'body.deep.y'],
    );
    assert.deepEqual(unstorableStrings({ a: 1, b: null, c: true }, 'query'), []);
  });

  it('file names lose paths and control characters, keep the rest', () => {
    assert.equal(cleanFileName('../../etc/passwd'), 'passwd');
    assert.equal(cleanFileName('C:\\Users\\me\\report.pdf'), 'report.pdf');
    assert.equal(cleanFileName('a\u0000b\u0007c.txt'), 'abc.txt');
    assert.equal(cleanFileName('счёт №5.pdf'), 'счёт №5.pdf');
    assert.equal(cleanFileName(''), 'file');
    assert.equal([...cleanFileName('x'.repeat(300))].length, 255);
  });

  it('MIME types that could not be a header value become application/octet-stream', () => {
    assert.equal(cleanMimeType('Application/PDF; charset=x'), 'application/pdf');
    assert.equal(cleanMimeType('image/svg+xml'), 'image/svg+xml');
    for (const bad of [undefined, '', 'pdf', 'a/b\r\nX-Evil: 1', 'text/\u0000', '/x'])
      assert.equal(cleanMimeType(bad), 'application/octet-stream', String(bad));
  });

  it('Content-Disposition carries an ASCII fallback and the UTF-8 name', () => {
    assert.equal(contentDisposition(undefined), 'attachment');
    assert.equal(
      contentDisposition('счёт "5".pdf'),
      `attachment; filename="____ _5_.pdf"; filename*=UTF-8''${encodeURIComponent('счёт "5".pdf')}`,
    );
  });

  it('attachment ids are the ones webhooks carry: file_unique_id, else message id and index', () => {
    assert.equal(attachmentIdOf('m1', 0, { kind: 'document', fileRef: 'F', fileUniqueId: 'AgADx' }), 'AgADx');
    assert.equal(attachmentIdOf('m1', 2, { kind: 'location' }), 'm1:2');
  });
});

describe('rate limiter', () => {
  it('admits the per-minute budget at once, then one request per 60/limit seconds', () => {
    let t = 0;
    const limiter = createRateLimiter({ perMinute: 6, now: () => t });
    for (let i = 0; i < 6; i++) assert.equal(limiter.take('tok').allowed, true);
    const denied = limiter.take('tok');
    assert.deepEqual(denied, { allowed: false, retryAfterSeconds: 10 });
    assert.equal(limiter.take('other').allowed, true, 'per token');
    t += 9_000;
    assert.equal(limiter.take('tok').allowed, false);
    t += 1_000;
    assert.equal(limiter.take('tok').allowed, true);
    t += 600_000;
    const after = limiter.take('tok');
    assert.deepEqual(after, { allowed: true, remaining: 5 }, 'refills up to the budget, no more');
  });

  it('never admits more than the budget plus the refill over any window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 120 }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 300 }),
        (perMinute, gaps) => {
          let t = 0;
          const limiter = createRateLimiter({ perMinute, now: () => t });
          let admitted = 0;
          for (const gap of gaps) {
            t += gap;
            if (limiter.take('k').allowed) admitted++;
          }
          assert.ok(admitted <= perMinute + Math.floor((t * perMinute) / 60_000) + 1);
        },
      ),
    );
  });

  it('forgets idle tokens when it holds too many', () => {
    let t = 0;
    const limiter = createRateLimiter({ perMinute: 2, now: () => t, maxKeys: 3 });
    for (const k of ['a', 'b', 'c']) limiter.take(k);
    t += 120_000;
    for (const k of ['d', 'e', 'f', 'g']) assert.equal(limiter.take(k).allowed, true);
  });
});

describe('read-model head watcher', () => {
  it('wakes every waiter once the head passes their cursor, and times out otherwise', async () => {
    let head = 5n;
    const watcher = createHeadWatcher({ readHead: async () => head, idleMs: 5, fastMs: 1 });
    assert.equal(await watcher.waitBeyond(4n, 1000), true, 'already beyond');
    const waiting = [watcher.waitBeyond(5n, 2000), watcher.waitBeyond(6n, 2000), watcher.waitBeyond(9n, 150)];
    await new Promise((r) => setTimeout(r, 20));
    head = 7n;
    const [a, b, c] = await Promise.all(waiting);
    assert.deepEqual([a, b, c], [true, true, false]);
    await watcher.stop();
  });

  it('`seen` wakes waiters at once, without a read; stop answers everyone', async () => {
    const watcher = createHeadWatcher({ readHead: async () => 0n, idleMs: 10_000 });
    const started = performance.now();
    const w = watcher.waitBeyond(10n, 5000);
    setTimeout(() => watcher.seen(11n), 10);
    assert.equal(await w, true);
    assert.ok(performance.now() - started < 1000);
    const pending = watcher.waitBeyond(100n, 5000);
    await watcher.stop();
    assert.equal(await pending, false);
  });

  it('a write waits until the checkpoint passes its position, and times out otherwise', async () => {
    let checkpoint: { commit: bigint; prepare: bigint } | null = null;
    const watcher = createHeadWatcher({
      readHead: async () => 0n,
      readCheckpoint: async () => checkpoint,
      idleMs: 5,
      fastMs: 1,
    });
    const applied = async (position: { commit: bigint; prepare: bigint }, ms: number) =>
      (await watcher.waitApplied(position, ms)).applied;
    const waiting = [
      applied({ commit: 10n, prepare: 3n }, 2000),
      applied({ commit: 10n, prepare: 5n }, 2000),
      applied({ commit: 11n, prepare: 0n }, 150),
    ];
    await new Promise((r) => setTimeout(r, 20));
    checkpoint = { commit: 10n, prepare: 4n };
    await new Promise((r) => setTimeout(r, 20));
    checkpoint = { commit: 10n, prepare: 5n };
    assert.deepEqual(await Promise.all(waiting), [true, true, false]);
    assert.equal(await applied({ commit: 9n, prepare: 99n }, 1000), true, 'already applied');
    await watcher.stop();
    const without = createHeadWatcher({ readHead: async () => 0n });
    assert.equal(
      (await without.waitApplied({ commit: 0n, prepare: 0n }, 1000)).applied,
      false,
      'no checkpoint to wait on',
    );
    await without.stop();
  });

  it('a runner in this process tells its commits: waiters settle at once, with the rows it wrote; the registry is asked only when it falls silent', async () => {
    type Told = (p: { commit: bigint; prepare: bigint }, listed: ListedRows) => void;
    let told: Told | undefined;
    const row = { message_id: 'm1', cursor: '7' } as ApiMessageRow;
    const listed: ListedRows = (source, conversation, message) =>
      source === 'shop' && conversation === 'c1' && message === 'm1' ? row : undefined;
    let asked = 0;
    let stored: { commit: bigint; prepare: bigint } | null = null;
    const watcher = createHeadWatcher({
      readHead: async () => 0n,
      readCheckpoint: async () => {
        asked++;
        return stored;
      },
      committedHere: (listener) => {
        told = listener;
        return () => {
          told = undefined;
        };
      },
      idleMs: 5,
      fastMs: 1,
      fastForMs: 200,
    });
    told!({ commit: 1n, prepare: 0n }, listed);
    const started = performance.now();
    const wanted = { source: 'shop', conversationId: 'c1', messageId: 'm1' };
    const waiting = watcher.waitApplied({ commit: 10n, prepare: 3n }, 5000, wanted);
    const other = watcher.waitApplied({ commit: 10n, prepare: 3n }, 5000, { ...wanted, source: 'crm' });
    setTimeout(() => told?.({ commit: 10n, prepare: 3n }, listed), 30);
    assert.deepEqual(await waiting, { applied: true, row });
    assert.deepEqual(
      await other,
      { applied: true, row: undefined },
      "another source's row is not handed out",
    );
    assert.ok(performance.now() - started < 1000);
    assert.equal(asked, 0, 'nothing asked while the runner reports');
    // Reached already when asked: its batch is over, so no row comes with it (the caller reads it).
    assert.deepEqual(await watcher.waitApplied({ commit: 5n, prepare: 0n }, 5000, wanted), { applied: true });
    // The runner went quiet (another instance leads now): the registry answers.
    await new Promise((r) => setTimeout(r, 250));
    const later = watcher.waitApplied({ commit: 20n, prepare: 0n }, 5000, wanted);
    stored = { commit: 20n, prepare: 0n };
    assert.deepEqual(await later, { applied: true, row: undefined });
    assert.ok(asked > 0, 'asked the registry');
    await watcher.stop();
    assert.equal(told, undefined, 'stop ends the reports');
  });

  it('an aborted signal ends a wait', async () => {
    const watcher = createHeadWatcher({ readHead: async () => 0n, idleMs: 5 });
    const ac = new AbortController();
    const w = watcher.waitBeyond(1n, 5000, ac.signal);
    ac.abort();
    assert.equal(await w, false);
    await watcher.stop();
  });
});
