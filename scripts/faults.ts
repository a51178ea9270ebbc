// `npm run test:faults`: the fault suite (test/faults/*.faults.test.ts) on a throwaway PostgreSQL this
// script starts itself (unless DATABASE_URL or TEST_DATABASE_URL points at one), then every
// scenario's summary line again, together, with the run's duration.
//
//   npm run test:faults                    # full periods: each Telegram outage 60 s
//   npm run test:faults -- --fast          # the short run npm test does (5 s outages, fewer messages)
//   npm run test:faults -- kill malformed  # only the files whose names contain these words
//
// The FAULTS_* variables (test/faults/support.ts) override either mode.
import { spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startEmbeddedPostgres } from '../src/adapters/postgres/embedded.ts';
import { FAST_ENV } from '../test/faults/support.ts';

const root = join(import.meta.dirname, '..');

const main = async (): Promise<number> => {
  const args = process.argv.slice(2);
  const fast = args.includes('--fast');
  const words = args.filter((a) => !a.startsWith('--'));
  const files = (await readdir(join(root, 'test/faults')))
    .filter((f) => f.endsWith('.faults.test.ts') && (words.length === 0 || words.some((w) => f.includes(w))))
    .sort()
    .map((f) => relative(root, join(root, 'test/faults', f)));
  if (files.length === 0) {
    console.error(`no fault scenarios match ${words.join(', ')}`);
    return 1;
  }

  const summary = join(tmpdir(), `topicdesk-faults-${process.pid}.txt`);
  const env: NodeJS.ProcessEnv = {
    ...(fast ? FAST_ENV : {}),
    ...process.env,
    FAULTS_SUMMARY_FILE: summary,
  };
  const started = Date.now();
  let stop = async () => {};
  if (!env.TEST_DATABASE_URL && env.DATABASE_URL) env.TEST_DATABASE_URL = env.DATABASE_URL;
  if (!env.TEST_DATABASE_URL) {
    const pg = await startEmbeddedPostgres({
      dataDir: join(tmpdir(), `topicdesk-faults-${process.pid}`),
      throwaway: true,
      unsafeFast: true,
    });
    env.TEST_DATABASE_URL = pg.url;
    stop = pg.stop;
  }
  const onSignal = () => void stop().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    console.log(
      `fault suite (${fast ? 'fast' : 'full'}): ${files.length} scenario files; Telegram outages ` +
        `${Number(env.FAULTS_OUTAGE_MS ?? 60_000) / 1000} s each, PostgreSQL down ` +
        `${Number(env.FAULTS_DB_OUTAGE_MS ?? 15_000) / 1000} s`,
    );
    const code = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--test',
          // Two at a time: the scenarios wait on outages more than they compute.
          '--test-concurrency=2',
          '--test-reporter=spec',
          ...files,
        ],
        { stdio: 'inherit', env, cwd: root },
      );
      child.on('exit', (c) => resolve(c ?? 1));
    });
    const lines = await readFile(summary, 'utf8').catch(() => '');
    console.log(`\nfault suite summary (${((Date.now() - started) / 1000).toFixed(1)} s in all):`);
    console.log(lines.trimEnd() || '(no scenario got as far as its summary)');
    console.log(code === 0 ? 'fault suite: passed' : 'fault suite: FAILED');
    return code;
  } finally {
    await rm(summary, { force: true });
    await stop();
  }
};

process.exitCode = await main();
