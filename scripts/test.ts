// `npm test`: type-check, lint, then every test tier against a throwaway PostgreSQL this script
// starts itself (unless DATABASE_URL points at one), on the production Node (package.json's
// config.nodeLts, fetched once by scripts/node-lts.ts); then, when the running Node is another
// major, the unit tier and the runtime-bound integration files (runtimeIntFiles) once more on it.
// `npm test -- unit` runs one tier; `npm test -- own-node` only the second run; `--node=current`
// runs the tiers on the running Node. The fault suite (test/faults) runs here with short outages;
// `npm run test:faults` runs it with full ones.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { startEmbeddedPostgres } from '../src/adapters/postgres/embedded.ts';
import { FAST_ENV } from '../test/faults/support.ts';
import { ensureLtsNode, ltsMajor, ltsVersion } from './node-lts.ts';
import { contractCounts } from './tap-check.ts';

const tiers = ['unit', 'int', 'e2e', 'faults'] as const;
type Tier = (typeof tiers)[number];
/**
 * What the run on the machine's own Node (`own-node`) covers: the unit tier, and of the integration
 * tier the files whose outcome rests on the runtime itself (below); the rest (CLI commands,
 * projections, reports, the embedded server's processes) is our code on the same driver and APIs,
 * and the e2e and fault tiers would add several minutes to every `npm test`.
 */
const ownNodeTiers: readonly Tier[] = ['unit', 'int'];
const runtimeIntFiles: readonly string[] = [
  'test/contract/pg.contract.int.test.ts', // the pg driver: appends, reads, LISTEN/NOTIFY subscriptions
  'test/contract/esdb-stand-in.contract.int.test.ts', // gRPC over http2 (client and stand-in server)
  'test/contract/esdb.contract.int.test.ts', // the same against a real server, when EVENTSTORE_URL is set
  'test/int/esdb-faults.int.test.ts', // http2 streams cut, stalled and reset under a live subscription
  'test/int/pg-shared-tail.int.test.ts', // the pg driver's notifications shared by several subscribers
  'test/int/leader.int.test.ts', // pg sessions, advisory locks and a backend the server drops
  'test/int/database-roles.int.test.ts', // SCRAM logins (crypto) and the roles' grants through pg
  'test/int/webhooks.int.test.ts', // fetch to a node:http receiver, HMAC signatures, timeouts and aborts
  'test/int/webhook-addresses.int.test.ts', // undici's dispatcher and DNS lookup, redirects not followed
  'test/int/telegram-stand-in.int.test.ts', // node:http server, multipart uploads and streamed files
  'test/int/telegram-limiter.int.test.ts', // grammY's fetch with 429 / 5xx / network faults and retries
  'test/int/token-cache.int.test.ts', // token hashing (crypto) and pg notifications ending a cached token
];
const root = join(import.meta.dirname, '..');

/** The step running now, so a signal to this script ends it (and its children) too. */
let running: ChildProcess | undefined;

/** Ends a step and everything it started: it leads a process group of its own. */
const killGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
};

/**
 * Runs one step. A step given `timeoutMs` that is still running then is ended (its whole process
 * group) and fails with a line saying so: a test that hangs fails the run in minutes, not at CI's limit.
 */
const step = (
  name: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs?: number,
) =>
  new Promise<number>((resolve) => {
    const started = Date.now();
    console.log(`\n▶ ${name}`);
    const child = spawn(cmd, args, { stdio: 'inherit', env, cwd: root, detached: true });
    running = child;
    let timedOut = false;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            console.error(`\n✖ ${name}: still running after ${timeoutMs / 60_000} min, ended`);
            killGroup(child, 'SIGTERM');
            setTimeout(() => killGroup(child, 'SIGKILL'), 10_000).unref();
          }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      running = undefined;
      const how = timedOut ? 'timed out' : code === 0 ? 'ok' : `failed (${signal ?? code})`;
      console.log(`◀ ${name}: ${how} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      resolve(timedOut ? 1 : (code ?? 1));
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

/**
 * One `node --test` run is ended after this long (TEST_RUN_TIMEOUT_MIN): today's full run takes about
 * 8 min. (--test-force-exit would end a hanging file sooner, but on Node 20 it cuts the TAP summary.)
 */
const RUN_TIMEOUT_MS = Number(process.env.TEST_RUN_TIMEOUT_MIN ?? 25) * 60_000;

/**
 * Test files at once (TEST_CONCURRENCY): two on two cores. The files are CPU-bound here (app and CLI
 * processes starting): on fresh clones the main tiers took 625 s at 2 and 611–645 s at 3, the same
 * within noise, and 2 keeps the load, and with it the timing-sensitive tests, calmer.
 */
const TEST_CONCURRENCY = Number(process.env.TEST_CONCURRENCY ?? 2);

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

interface Counts {
  readonly pass: number;
  readonly fail: number;
  readonly skipped: number;
}

/** One `node --test` run of the files with the given node binary; its counts from a TAP copy. */
const runTests = async (
  name: string,
  node: string,
  files: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; counts: Counts; contract: Map<string, Counts> }> => {
  const tap = join(tmpdir(), `topicdesk-test-${process.pid}-${Date.now()}.tap`);
  const code = await step(
    name,
    node,
    [
      '--import',
      'tsx',
      '--test',
      `--test-concurrency=${TEST_CONCURRENCY}`,
      '--test-timeout=180000',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...files,
    ],
    env,
    RUN_TIMEOUT_MS,
  );
  const summary = await readFile(tap, 'utf8').catch(() => '');
  const count = (key: string) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(summary)?.[1] ?? 0);
  await rm(tap, { force: true });
  return {
    code,
    counts: { pass: count('pass'), fail: count('fail') + count('cancelled'), skipped: count('skipped') },
    contract: contractCounts(summary),
  };
};

const main = async () => {
  const args = process.argv.slice(2);
  const wanted = args.filter((a): a is Tier => (tiers as readonly string[]).includes(a));
  const ownNodeOnly = args.includes('own-node');
  const everything = wanted.length === 0 && !ownNodeOnly;
  const selected: readonly Tier[] = everything ? tiers : wanted;
  const checksOnly = args.includes('--checks');
  const onCurrent = args.includes('--node=current');
  const onLtsMajor = ltsMajor(ltsVersion(root)) === ltsMajor(process.versions.node);
  // The tiers run on the production Node; the running Node, when it is another major (the engines
  // floor on these machines), runs the runtime-bound files again.
  const ownNode = ownNodeOnly || (everything && !checksOnly && !onCurrent && !onLtsMajor);
  const fetchLts = selected.length > 0 && !checksOnly && !onCurrent && !onLtsMajor;

  if (everything) {
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
  const ownAll = ownNode ? await findTests(join(root, 'test'), ownNodeTiers) : [];
  const ownFiles = ownAll.filter((f) => !f.endsWith('.int.test.ts') || runtimeIntFiles.includes(f));
  // A renamed or removed file must not drop out of the second run unnoticed.
  const ownMissing = ownNode ? runtimeIntFiles.filter((f) => !ownAll.includes(f)) : [];
  if (ownMissing.length > 0) {
    console.error(`the run on this Node names test files that do not exist: ${ownMissing.join(', ')}`);
    return 1;
  }
  if (files.length === 0 && ownFiles.length === 0) {
    console.error(`no test files for tiers ${selected.join(', ')}`);
    return 1;
  }
  if (selected.includes('e2e')) await ensureChromium();
  if (everything && !checksOnly && onLtsMajor)
    console.log(`Node ${process.version} is on the LTS major: the tiers run on it, no second run`);
  if (everything && onCurrent)
    console.log(`--node=current: the tiers run on Node ${process.version}, not on the LTS`);
  // Fetched before the database starts: an unreachable registry fails the run here, in seconds.
  let ltsNode: Awaited<ReturnType<typeof ensureLtsNode>> | undefined;
  if (fetchLts) {
    try {
      ltsNode = await ensureLtsNode(root);
    } catch (err) {
      console.error(`\n✖ ${(err as Error).message}`);
      return 1;
    }
    console.log(
      ltsNode.fetchedMs === undefined
        ? `Node ${ltsNode.version} (LTS, the tiers run on it): ${relative(root, ltsNode.node)}, cached`
        : `Node ${ltsNode.version} (LTS, the tiers run on it): fetched from the npm registry in ${(ltsNode.fetchedMs / 1000).toFixed(1)} s`,
    );
  }

  // The fault suite's short run (test/faults/support.ts); FAULTS_* in the environment win.
  const env: NodeJS.ProcessEnv = { ...FAST_ENV, ...process.env };
  let stop = async () => {};
  const needsDatabase = selected.some((t) => t !== 'unit') || ownNode;
  if (!env.DATABASE_URL && !env.TEST_DATABASE_URL && needsDatabase) {
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
  const onSignal = () => {
    if (running) killGroup(running, 'SIGTERM');
    void stop().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const runs: { code: number; counts: Counts; contract: Map<string, Counts> }[] = [];
    if (files.length > 0) {
      // The LTS's directory first on PATH: anything a test starts as plain `node` is the LTS too.
      const node = ltsNode?.node ?? process.execPath;
      const tierEnv = ltsNode ? { ...env, PATH: [dirname(ltsNode.node), env.PATH].join(delimiter) } : env;
      const version = ltsNode ? ltsNode.version : process.versions.node;
      runs.push(
        await runTests(
          `tests on Node ${version}: ${selected.join(', ')} (${files.length} files)`,
          node,
          files,
          tierEnv,
        ),
      );
    }
    if (ownNode) {
      const run = await runTests(
        `tests on this machine's Node ${process.versions.node}: unit, ${runtimeIntFiles.length} runtime-bound int files (${ownFiles.length} files)`,
        process.execPath,
        ownFiles,
        env,
      );
      const { pass, fail, skipped } = run.counts;
      console.log(`Node ${process.versions.node}: ${pass} pass, ${fail} fail, ${skipped} skipped`);
      runs.push(run);
    }
    // One plain closing line for CI and people: the counts of the whole run.
    const total = (key: keyof Counts) => runs.reduce((sum, r) => sum + r.counts[key], 0);
    const contract = new Map<string, Counts>();
    for (const run of runs)
      for (const [log, c] of run.contract) {
        const b = contract.get(log) ?? { pass: 0, fail: 0, skipped: 0 };
        contract.set(log, { pass: b.pass + c.pass, fail: b.fail + c.fail, skipped: b.skipped + c.skipped });
      }
    const contractLine = [...contract]
      .map(([log, c]) =>
        c.pass + c.fail + c.skipped === 0
          ? `${log} not run (skipped whole)`
          : `${log} ${c.pass} passed, ${c.fail} failed, ${c.skipped} skipped`,
      )
      .join('; ');
    if (contractLine) console.log(`\nevent-log contract: ${contractLine}`);
    console.log(
      `${contractLine ? '' : '\n'}${total('pass')} passed, ${total('fail')} failed, ${total('skipped')} skipped`,
    );
    return runs.find((r) => r.code !== 0)?.code ?? 0;
  } finally {
    await stop();
  }
};

process.exitCode = await main();
