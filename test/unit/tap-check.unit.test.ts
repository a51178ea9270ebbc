// scripts/tap-check.ts, which CI runs on the TAP report of each file that skips itself without a
// KurrentDB node (.github/workflows/ci.yml, job eventstore-contract): node counts skipped tests in
// `# tests` and reports a suite skipped whole as passing, so the report is read for what ran.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTap, contractCounts } from '../../scripts/tap-check.ts';

describe('scripts/tap-check.ts: a TAP report that ran what it should', () => {
  const report = (lines: string, counts: { tests: number; pass: number; fail?: number; skipped?: number }) =>
    `TAP version 13\n${lines}\n# tests ${counts.tests}\n# suites 1\n# pass ${counts.pass}\n# fail ${counts.fail ?? 0}\n# cancelled 0\n# skipped ${counts.skipped ?? 0}\n# todo 0\n`;
  const slow =
    'a subscriber sees every event once when a slow transaction takes a lower position and commits late';
  const ran = report(
    `    ok 1 - appends\n    ok 2 - ${slow} # SKIP no slow append\nok 1 - event log contract: X`,
    {
      tests: 2,
      pass: 1,
      skipped: 1,
    },
  );

  it('passes a run whose only skip is the known one (node counts it in # tests)', () =>
    assert.deepEqual(checkTap(ran, [slow]), []));
  it('refuses a skip nobody expected, and an expected one that ran', () => {
    assert.match(checkTap(ran).join('\n'), /skipped unexpectedly: "a subscriber sees/);
    assert.match(
      checkTap(ran, [slow, 'reads a missing stream as empty']).join('\n'),
      /expected to be skipped, but was not: "reads a missing/,
    );
  });
  it('refuses a suite skipped whole: no tests, one skipped suite line', () => {
    const skippedWhole = report('ok 1 - event log contract: EventStoreDB # SKIP EVENTSTORE_URL not set', {
      tests: 0,
      pass: 0,
    });
    const problems = checkTap(skippedWhole, [slow]).join('\n');
    assert.match(problems, /skipped unexpectedly: "event log contract: EventStoreDB"/);
    assert.match(problems, /nothing passed/);
  });
  it('refuses a failure, and a report cut short', () => {
    assert.match(
      checkTap(report('not ok 1 - appends', { tests: 1, pass: 0, fail: 1 })).join('\n'),
      /1 failed/,
    );
    assert.deepEqual(checkTap('TAP version 13\nok 1 - appends\n'), [
      'no TAP summary (# tests, # pass, # fail, # skipped): did the run finish?',
    ]);
  });
});

describe('scripts/tap-check.ts: the contract counts per event log for the closing line', () => {
  it('counts each log’s tests, skips and failures, and adds up a log met in two files', () => {
    const tap = [
      'TAP version 13',
      '# Subtest: event log contract: PostgreSQL',
      '    # Subtest: appends',
      '    ok 1 - appends',
      '    not ok 2 - reads',
      'not ok 1 - event log contract: PostgreSQL',
      '# Subtest: some other suite',
      '    ok 1 - unrelated',
      'ok 2 - some other suite',
      '# Subtest: event log contract: EventStoreDB adapter against the stand-in',
      '    ok 1 - appends',
      '    ok 2 - slow # SKIP cannot hold an append open',
      'ok 3 - event log contract: EventStoreDB adapter against the stand-in',
      '# Subtest: event log contract: PostgreSQL',
      '    ok 1 - again',
      'ok 4 - event log contract: PostgreSQL',
    ].join('\n');
    assert.deepEqual(
      [...contractCounts(tap)],
      [
        ['PostgreSQL', { pass: 2, fail: 1, skipped: 0 }],
        ['EventStoreDB adapter against the stand-in', { pass: 1, fail: 0, skipped: 1 }],
      ],
    );
  });
});
