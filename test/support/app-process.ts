// The real app in a child process, as `npm start` runs it (`node --import tsx src/main.ts`, configured
// by environment variables), so a test can run several instances on one database and SIGKILL one.
// Its log (stdout and stderr) is kept in memory for the test to show when something fails.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface AppProcess {
  readonly name: string;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly pid: number;
  /** Resolves when the process has exited, with its exit code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isAlive(): boolean;
  /** The last lines the process wrote, each prefixed with its name. */
  logs(lines?: number): string;
  /** Sends `signal` and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (a clean shutdown), SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface AppProcessOptions {
  /** Shown in front of every log line. */
  readonly name: string;
  /** The app's configuration; PORT (0: any free port) and HOST default to an ephemeral loopback port. */
  readonly env: Record<string, string>;
  /** How long start-up may take, to /readyz answering 200. Default 30 s (two loaded cores). */
  readonly readyTimeoutMs?: number;
  /** Lines of log kept. Default 5000. */
  readonly keepLines?: number;
}

/** `url` with `?application_name=<name>`: the process's connections show as that in pg_stat_activity. */
export const withApplicationName = (url: string, name: string): string => {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
};

const LISTENING = /topicdesk listening on (http:\/\/[^\s"]+)/;

export const startAppProcess = async (options: AppProcessOptions): Promise<AppProcess> => {
  const { name, readyTimeoutMs = 30_000, keepLines = 5000 } = options;
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(`[${name}] ${line}`);
    if (lines.length > keepLines) lines.splice(0, lines.length - keepLines);
  };

  // A clean environment: nothing of the test runner's (NODE_TEST_CONTEXT, NODE_OPTIONS, TEST_*).
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? root,
      PORT: '0',
      HOST: '127.0.0.1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let alive = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      alive = false;
      keep(`(exited: ${signal ?? `code ${code}`})`);
      resolve({ code, signal });
    });
  });

  let url: string | undefined;
  let onUrl: ((url: string) => void) | undefined;
  const reader = (stream: NodeJS.ReadableStream | null) => {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        keep(line);
        const m = url === undefined ? LISTENING.exec(line) : null;
        if (m) {
          url = m[1]!;
          onUrl?.(url);
        }
      }
    });
    stream?.on('end', () => {
      if (rest) keep(rest);
    });
  };
  reader(child.stdout);
  reader(child.stderr);

  const logs = (n = 200) => lines.slice(-n).join('\n');
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (alive) child.kill(signal);
    await exited;
  };

  const deadline = Date.now() + readyTimeoutMs;
  const fail = async (why: string): Promise<never> => {
    await kill('SIGKILL');
    throw new Error(`app process ${name} ${why}\n${logs(80)}`);
  };
  const address = await Promise.race([
    new Promise<string>((resolve) => {
      if (url) resolve(url);
      onUrl = resolve;
    }),
    exited.then(() => undefined),
    new Promise<undefined>((r) => setTimeout(() => r(undefined), readyTimeoutMs).unref()),
  ]);
  if (!address) return fail(alive ? `did not start within ${readyTimeoutMs} ms` : 'exited during start-up');
  for (;;) {
    const status = await fetch(`${address}/readyz`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.status)
      .catch(() => 0);
    if (status === 200) break;
    if (!alive) return fail('exited during start-up');
    if (Date.now() > deadline) return fail(`was not ready within ${readyTimeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    name,
    url: address,
    pid: child.pid!,
    exited,
    isAlive: () => alive,
    logs,
    kill,
    async stop(graceMs = 10_000) {
      if (!alive) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
};
