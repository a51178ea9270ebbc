// CI: `node --test`'s TAP report shows that a suite really ran. Node counts skipped tests in
// `# tests` and reports a suite skipped whole as passing, so "passed == tests" is wrong both ways.
// Checked: no test failed or was cancelled, exactly the expected tests were skipped (by name), and
// every other test passed — at least one.
//
//   node --import tsx scripts/tap-check.ts report.tap [--skip "<test name>"]...
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface TapCounts {
  readonly pass: number;
  readonly fail: number;
  readonly skipped: number;
}

/**
 * The event-log contract's results per log, read from a TAP report: each suite `event log contract:
 * <log>` with the tests under it (the closing line shows that both logs kept the contract).
 */
export const contractCounts = (tap: string): Map<string, TapCounts> => {
  const out = new Map<string, TapCounts>();
  let current: { name: string; pass: number; fail: number; skipped: number } | undefined;
  for (const line of tap.split('\n')) {
    const suite = /^# Subtest: event log contract: (.+)$/.exec(line);
    if (suite) {
      current = { name: suite[1]!, pass: 0, fail: 0, skipped: 0 };
      continue;
    }
    if (!current) continue;
    const test = /^ {4}(not ok|ok) \d+ - .*?( # SKIP.*)?$/.exec(line);
    if (test) {
      if (test[2]) current.skipped++;
      else if (test[1] === 'ok') current.pass++;
      else current.fail++;
    } else if (/^(not ok|ok) \d+ - /.test(line)) {
      const { name, ...counts } = current;
      const before = out.get(name);
      out.set(
        name,
        before
          ? {
              pass: before.pass + counts.pass,
              fail: before.fail + counts.fail,
              skipped: before.skipped + counts.skipped,
            }
          : counts,
      );
      current = undefined;
    }
  }
  return out;
};

/** What is wrong with the report; [] when it ran as expected. */
export const checkTap = (tap: string, expectedSkips: readonly string[] = []): string[] => {
  const count = (name: string): number | undefined => {
    const m = new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap);
    return m ? Number(m[1]) : undefined;
  };
  const [tests, pass, fail, cancelled, skipped] = ['tests', 'pass', 'fail', 'cancelled', 'skipped'].map(
    count,
  );
  if (tests === undefined || pass === undefined || fail === undefined || skipped === undefined)
    return ['no TAP summary (# tests, # pass, # fail, # skipped): did the run finish?'];
  const problems: string[] = [];
  if (fail > 0) problems.push(`${fail} failed`);
  if ((cancelled ?? 0) > 0) problems.push(`${cancelled} cancelled`);
  const skips = [...tap.matchAll(/^\s*ok \d+ - (.*?) # SKIP\b/gm)].map((m) => m[1]!.trim());
  for (const name of skips)
    if (!expectedSkips.includes(name)) problems.push(`skipped unexpectedly: "${name}"`);
  for (const name of expectedSkips)
    if (!skips.includes(name)) problems.push(`expected to be skipped, but was not: "${name}"`);
  if (pass === 0) problems.push('nothing passed (a suite skipped whole counts no tests)');
  if (pass + skipped !== tests) problems.push(`${tests} tests, but ${pass} passed and ${skipped} skipped`);
  return problems;
};

const main = (args: readonly string[]) => {
  const [file, ...rest] = args;
  const skips: string[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    if (rest[i] !== '--skip' || rest[i + 1] === undefined)
      throw new Error(`usage: tap-check.ts report.tap [--skip "<test name>"]...`);
    skips.push(rest[i + 1]!);
  }
  if (!file) throw new Error('usage: tap-check.ts report.tap [--skip "<test name>"]...');
  const tap = readFileSync(file, 'utf8');
  const problems = checkTap(tap, skips);
  const summary = ['tests', 'pass', 'fail', 'skipped'].map(
    (n) => `${n} ${new RegExp(`^# ${n} (\\d+)$`, 'm').exec(tap)?.[1] ?? '?'}`,
  );
  console.log(`${file}: ${summary.join(', ')}`);
  for (const p of problems) console.error(`${file}: ${p}`);
  if (problems.length > 0) process.exitCode = 1;
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
