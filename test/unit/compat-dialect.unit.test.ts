// tg-support-bot's dialect: which versions are told apart, and its dates as wall-clock time in a
// time zone, across a daylight-saving change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDate, parseDate } from '../../src/adapters/api/compat/dates.ts';
import { CompatError, parseCompat, rulesOf } from '../../src/adapters/api/compat/dialect.ts';
import { listParams } from '../../src/adapters/api/compat/request.ts';

describe("tg-support-bot's dialect", () => {
  it('names versions by major release; later releases speak as 6; older ones and other systems are refused', () => {
    assert.deepEqual(parseCompat('tg-support-bot@6'), {
      dialect: 'tg-support-bot',
      version: 6,
      timeZone: 'Europe/Moscow',
    });
    assert.equal(parseCompat('tg-support-bot@5.3.1').version, 5);
    assert.equal(parseCompat('tg-support-bot@7.1.0').version, 6);
    assert.equal(parseCompat('tg-support-bot@4', 'Asia/Yekaterinburg').timeZone, 'Asia/Yekaterinburg');
    for (const bad of ['tg-support-bot@2', 'tg-support-bot', 'other@6', 'tg-support-bot@six'])
      assert.throws(() => parseCompat(bad), CompatError, bad);
    assert.throws(() => parseCompat('tg-support-bot@6', 'Mars/Olympus'), CompatError);
  });

  it('tells the versions apart where they differ', () => {
    const of = (v: number) => rulesOf(parseCompat(`tg-support-bot@${v}`));
    assert.deepEqual(
      [3, 4, 5, 6].map((v) => [of(v).clientInPath, of(v).writeAnswer, of(v).webhook]),
      [
        [false, 'message_id', 'flat'],
        [true, 'result', 'flat'],
        [true, 'result', 'typed'],
        [true, 'empty', 'typed'],
      ],
    );
  });

  it('writes and reads wall-clock time in the zone, on both sides of a DST change', () => {
    const at = new Date('2026-05-01T10:00:00Z');
    assert.equal(formatDate(at, 'Europe/Moscow'), '01.05.2026 13:00:00');
    assert.equal(parseDate('2026-05-01 13:00:00', 'Europe/Moscow')?.toISOString(), at.toISOString());
    assert.equal(parseDate('01.05.2026 13:00:00', 'Europe/Moscow')?.toISOString(), at.toISOString());
    assert.equal(parseDate('2026-05-01', 'Europe/Moscow')?.toISOString(), '2026-04-30T21:00:00.000Z');
    // Berlin: +01:00 in winter, +02:00 in summer.
    assert.equal(parseDate('2026-01-15 12:00', 'Europe/Berlin')?.toISOString(), '2026-01-15T11:00:00.000Z');
    assert.equal(parseDate('2026-07-15 12:00', 'Europe/Berlin')?.toISOString(), '2026-07-15T10:00:00.000Z');
    assert.equal(formatDate('2026-07-15T10:00:00Z', 'Europe/Berlin'), '15.07.2026 12:00:00');
    assert.equal(parseDate('2026-05-01T10:00:00Z', 'Europe/Moscow')?.toISOString(), at.toISOString());
    for (const bad of ['yesterday', '2026-13-01', '2026-05-01 25:00', ''])
      assert.equal(parseDate(bad, 'Europe/Moscow'), undefined, bad);
  });

  it('reads list parameters with its meaning: ascending unless desc, anything else desc, no maximum', () => {
    assert.equal(listParams({}).sort, 'asc');
    assert.equal(listParams({ type_sort: 'DESC' }).sort, 'desc');
    assert.equal(listParams({ type_sort: 'newest' }).sort, 'desc');
    assert.deepEqual(listParams({ limit: '100000', offset: '9000', after_id: 12 }), {
      sort: 'asc',
      limit: 100000,
      offset: 9000,
      afterId: 12,
    });
    assert.equal(listParams({ limit: '0' }).limit, undefined, '0 or none: every message');
  });
});
