// Working hours on a fixed clock across daylight-saving changes: instants are written in UTC, the
// schedule in Europe/Berlin's wall-clock time, and the answers must not depend on the zone this
// process runs in (the last test moves luxon's default zone to the other side of the world).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Settings } from 'luxon';
import { formatOpening, hoursAt } from '../../src/adapters/settings/schedule.ts';
import { checkWorkingHours, type WorkingHours } from '../../src/domain/settings/hours.ts';

const berlin: WorkingHours = checkWorkingHours({
  timeZone: 'Europe/Berlin',
  weekly: {
    mon: ['09:00-18:00'],
    tue: ['09:00-18:00'],
    wed: ['09:00-18:00'],
    thu: ['09:00-18:00'],
    fri: ['09:00-18:00'],
  },
  exceptions: [
    { date: '2026-03-29', hours: ['02:30-04:00'], note: 'the night the clocks go forward' },
    { date: '2026-10-25', hours: ['01:00-04:00'], note: 'the night the clocks go back' },
    { date: '2026-12-25', hours: [], note: 'Christmas' },
    { date: '2026-12-31', hours: ['10:00-14:00'] },
  ],
});

const utc = (iso: string) => new Date(iso);
const off = (iso: string) => {
  const now = hoursAt(berlin, utc(iso));
  assert.equal(now.open, false, `${iso} should be outside hours`);
  return now as Extract<typeof now, { open: false }>;
};
const open = (iso: string) => assert.equal(hoursAt(berlin, utc(iso)).open, true, `${iso} should be open`);

describe('working hours', () => {
  it('closes on Friday at 18:00 CET and opens on Monday at 09:00 CEST, an hour earlier in UTC', () => {
    open('2026-03-27T16:59:00Z'); // Friday 17:59 CET (UTC+1)
    const friday = off('2026-03-27T17:00:00Z');
    assert.equal(friday.since?.toISOString(), '2026-03-27T17:00:00.000Z');
    // Next: that Sunday's own hours; the clocks moved forward at 02:00, so 02:30 is 03:30 CEST.
    assert.equal(friday.opensAt?.toISOString(), '2026-03-29T01:30:00.000Z');
    // After them, Monday 09:00 is 07:00 UTC, not 08:00 as before the change.
    assert.equal(off('2026-03-29T02:00:00Z').opensAt?.toISOString(), '2026-03-30T07:00:00.000Z');
    off('2026-03-30T06:59:00Z');
    open('2026-03-30T07:00:00Z');
  });

  it('names one off-period by its start, whatever moment of it a client writes in', () => {
    const saturday = off('2026-03-21T12:00:00Z');
    const mondayMorning = off('2026-03-23T06:00:00Z');
    assert.equal(saturday.since?.toISOString(), '2026-03-20T17:00:00.000Z');
    assert.equal(mondayMorning.since?.toISOString(), saturday.since?.toISOString());
    // That Sunday night's own hours (an exception) end the period begun on Friday: a new one at 04:00.
    assert.equal(off('2026-03-29T12:00:00Z').since?.toISOString(), '2026-03-29T02:00:00.000Z');
  });

  it('moves a time the clocks skip past the gap (02:30 on 29 March is 03:30 CEST)', () => {
    off('2026-03-29T01:00:00Z'); // 02:00 CET became 03:00 CEST at 01:00 UTC; 03:00 CEST < 03:30
    open('2026-03-29T01:30:00Z'); // 03:30 CEST
    open('2026-03-29T01:59:00Z');
    off('2026-03-29T02:00:00Z'); // 04:00 CEST
  });

  it('counts the hour the clocks repeat: 01:00-04:00 on 25 October is four hours long', () => {
    off('2026-10-24T22:59:00Z');
    open('2026-10-24T23:00:00Z'); // 01:00 CEST
    open('2026-10-25T00:30:00Z'); // 02:30 CEST, the first time
    open('2026-10-25T01:30:00Z'); // 02:30 CET, the second time
    open('2026-10-25T02:59:00Z'); // 03:59 CET
    off('2026-10-25T03:00:00Z'); // 04:00 CET
  });

  it('keeps a holiday closed and a day with its own hours open only then', () => {
    const christmas = off('2026-12-25T10:00:00Z'); // a Friday
    assert.equal(christmas.since?.toISOString(), '2026-12-24T17:00:00.000Z');
    // No hours on Saturday and Sunday either: Monday 09:00 CET.
    assert.equal(christmas.opensAt?.toISOString(), '2026-12-28T08:00:00.000Z');
    off('2026-12-31T08:59:00Z'); // 09:59 CET on a Thursday with its own hours
    open('2026-12-31T09:00:00Z');
    open('2026-12-31T12:59:00Z');
    assert.equal(off('2026-12-31T13:00:00Z').since?.toISOString(), '2026-12-31T13:00:00.000Z');
  });

  it('says when a schedule never opens', () => {
    const never = hoursAt({ timeZone: 'UTC', weekly: {}, exceptions: [] }, utc('2026-06-01T12:00:00Z'));
    assert.deepEqual(never, { open: false });
  });

  it('gives the same answers whatever zone the process runs in', () => {
    const instants = [
      '2026-03-27T17:00:00Z',
      '2026-03-29T01:30:00Z',
      '2026-10-25T01:30:00Z',
      '2026-12-25T10:00:00Z',
    ];
    const before = instants.map((i) => JSON.stringify(hoursAt(berlin, utc(i))));
    const zone = Settings.defaultZone;
    try {
      for (const other of ['Pacific/Kiritimati', 'America/Los_Angeles', 'Asia/Kathmandu']) {
        Settings.defaultZone = other;
        assert.deepEqual(
          instants.map((i) => JSON.stringify(hoursAt(berlin, utc(i)))),
          before,
          `answers changed with the process in ${other}`,
        );
      }
    } finally {
      Settings.defaultZone = zone;
    }
  });

  it('tells a client when support opens, in their language and the schedule’s zone', () => {
    const opensAt = utc('2026-03-30T07:00:00Z');
    assert.equal(formatOpening(opensAt, berlin, 'en'), 'Monday, March 30, 09:00 (Europe/Berlin)');
    assert.equal(formatOpening(opensAt, berlin, 'ru'), 'понедельник, 30 марта, 09:00 (Europe/Berlin)');
  });
});
