// `npm test`: type-check, lint, then every test tier against a throwaway PostgreSQL this script
// starts itself (unless DATABASE_URL points at one). `npm test -- unit` runs one tier. The fault
// suite (test/faults) runs here with short outages; `npm run test:faults` runs it with full ones.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startEmbeddedPostgres } from '../src/adapters/postgres/embedded.ts';
import { FAST_ENV } from '../test/faults/support.ts';

const tiers = ['unit', 'int', 'e2e', 'faults'] as const;
type Tier = (typeof tiers)[number];
const root = join(import.meta.dirname, '..');

const step = (name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  new Promise<number>((resolve) => {
    const started = Date.now();
    console.log(`\n▶ ${name}`);
    const child = spawn(cmd, args, { stdio: 'inherit', env, cwd: root });
    child.on('exit', (code, signal) => {
      console.log(
        `◀ ${name}: ${code === 0 ? 'ok' : `failed (${signal ?? code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      resolve(code ?? 1);
    });
  });

const findTests = async (dir: string, wanted: readonly Tier[]): Promise<string[]> => {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const tier = /\.(unit|int|e2e|faults)\.test\.ts$/.exec(entry.name)?.[1] as Tier | undefined;
    if (entry.isFile() && tier && wanted.includes(tier))
      out.push(relative(root, join(entry.parentPath, entry.name)));
  }
  return out.sort();
};

const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/**
 * The audit page's test drives Debian's Chromium (playwright-core downloads no browser). When it is
 * missing and this runs as root on Debian/Ubuntu (CI), install it; otherwise that test says it
 * skipped and why.
 */
const ensureChromium = async () => {
  if (process.env.CHROMIUM_PATH || CHROMIUM_PATHS.some((p) => existsSync(p))) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    console.log('no Chromium here (and not root to install it): the audit page test will skip');
    return;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = ['install', '-y', '-q', '--no-install-recommends', 'chromium'];
  if ((await step('install Debian’s chromium for the audit page test', 'apt-get', install, env)) === 0)
    return;
  await step('apt-get update', 'apt-get', ['update', '-q'], env);
  await step('install Debian’s chromium (after apt-get update)', 'apt-get', install, env);
};

const main = async () => {
  const args = process.argv.slice(2);
  const wanted = args.filter((a): a is Tier => (tiers as readonly string[]).includes(a));
  const selected = wanted.length > 0 ? wanted : tiers;
  const checksOnly = args.includes('--checks');

  if (wanted.length === 0) {
    if (
      (await step('type-check (tsc --noEmit, strict)', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'])) !==
      0
    )
      return 1;
    if (
      (await step('lint and format (biome check)', 'npx', ['biome', 'check', '--error-on-warnings', '.'])) !==
      0
    )
      return 1;
    if (checksOnly) return 0;
  }

  const files = await findTests(join(root, 'test'), selected);
  if (files.length === 0) {
    console.error(`no test files for tiers ${selected.join(', ')}`);
    return 1;
  }
  if (selected.includes('e2e')) await ensureChromium();

  // The fault suite's short run (test/faults/support.ts); FAULTS_* in the environment win.
  const env: NodeJS.ProcessEnv = { ...FAST_ENV, ...process.env };
  let stop = async () => {};
  if (!env.DATABASE_URL && !env.TEST_DATABASE_URL && selected.some((t) => t !== 'unit')) {
    const started = Date.now();
    const pg = await startEmbeddedPostgres({
      dataDir: join(tmpdir(), `topicdesk-test-${process.pid}`),
      throwaway: true,
      unsafeFast: true,
    });
    console.log(`throwaway PostgreSQL on port ${pg.port}, up in ${Date.now() - started} ms`);
    env.TEST_DATABASE_URL = pg.url;
    stop = pg.stop;
  } else if (env.DATABASE_URL && !env.TEST_DATABASE_URL) {
    env.TEST_DATABASE_URL = env.DATABASE_URL;
  }
  const onSignal = () => void stop().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const tap = join(tmpdir(), `topicdesk-test-${process.pid}.tap`);
    const code = await step(
      `tests: ${selected.join(', ')} (${files.length} files)`,
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-concurrency=2',
        '--test-timeout=180000',
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=${tap}`,
        ...files,
      ],
      env,
    );
    // One plain closing line for CI and people: the counts of the whole run.
    const summary = await readFile(tap, 'utf8').catch(() => '');
    const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(summary)?.[1] ?? 0);
    await rm(tap, { force: true });
    console.log(
      `\n${count('pass')} passed, ${count('fail') + count('cancelled')} failed, ${count('skipped')} skipped`,
    );
    return code;
  } finally {
    await stop();
  }
};

process.exitCode = await main();
