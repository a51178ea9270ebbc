// Which topicdesk processes use the embedded PostgreSQL server: one small file per process under
// DATA_DIR/postgres/processes with its pid, when that process started (so that a reused pid is not
// taken for it) and what it is about to do with the server. How the files decide who may stop the
// server: docs/design.md, "One embedded server, several processes".
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { platform } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `using`: uses the server or is about to (do not stop it); `stopping`: about to stop it. */
export type Intent = 'deciding' | 'using' | 'stopping';

export interface ProcessEntry {
  readonly pid: number;
  readonly intent: Intent;
  /** For log lines: the script and a CLI command's name (`src/main.ts`, `src/cli.ts projections:rebuild`). */
  readonly command: string;
}

export interface Membership {
  /** Records what this process is about to do; other processes see it once this resolves. */
  set(intent: Intent): Promise<void>;
  /** The other live processes' entries; files of processes that died are removed on the way. */
  others(): Promise<ProcessEntry[]>;
  leave(): Promise<void>;
}

interface Stored extends ProcessEntry {
  /** When the process started (boot id and start time on Linux): a pid reused later differs. */
  readonly started: string | null;
}

let bootId: Promise<string> | undefined;

/**
 * When process `pid` started, as an opaque string; null: there is no such process; undefined: this
 * platform does not say (then the pid alone decides).
 */
export const processStarted = async (pid: number): Promise<string | null | undefined> => {
  if (platform() === 'linux') {
    bootId ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
      (t) => t.trim(),
      () => '',
    );
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (stat === null) return null;
    // Fields 3 (state) and 22 (starttime): the fields after the command's parenthesis start at 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return null; // exited, not yet reaped by its parent
    return fields[19] ? `${await bootId}/${fields[19]}` : undefined;
  }
  // ps exits 1 when no process has the pid; without ps at all, nothing can be told.
  return run('ps', ['-o', 'lstart=', '-p', String(pid)]).then(
    (r) => r.stdout.trim() || null,
    (error: { code?: unknown }) => (error.code === 1 ? null : undefined),
  );
};

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const alive = async (entry: Stored): Promise<boolean> => {
  if (!pidAlive(entry.pid)) return false;
  const now = await processStarted(entry.pid);
  if (now === null) return false;
  // Unknown on either side: the live pid is taken for the process (never stop a server in use).
  return now === undefined || entry.started === null || now === entry.started;
};

const pidOf = (name: string): number => Number(/^\.?(\d+)-/.exec(name)?.[1] ?? Number.NaN);

export const joinProcesses = async (dir: string): Promise<Membership> => {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const name = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const file = join(dir, name);
  const started = (await processStarted(process.pid)) ?? null;
  // The script and the command's name only: an argument may hold a secret (a URL with a password).
  const script = (process.argv[1] ?? '').replace(/^.*?\/(?=(src|scripts|test|bench)\/)/, '');
  const command = [script, process.argv[2]?.match(/^[\w:-]+$/)?.[0]].filter(Boolean).join(' ');

  const set = async (intent: Intent) => {
    const stored: Stored = { pid: process.pid, intent, command, started };
    // Written whole under another name, then renamed: a reader sees the old entry or the new one.
    const tmp = join(dir, `.${name}.tmp`);
    await writeFile(tmp, JSON.stringify(stored), { mode: 0o600 });
    await rename(tmp, file);
  };

  const read = async (entry: string): Promise<Stored | undefined> => {
    const text = await readFile(join(dir, entry), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined; // gone in between: that process left
    try {
      return JSON.parse(text) as Stored;
    } catch {
      // Not ours to judge: taken for a process about to use the server, alive while its pid is.
      return { pid: pidOf(entry), intent: 'using', command: entry, started: null };
    }
  };

  await set('deciding');
  return {
    set,
    async others() {
      const entries: ProcessEntry[] = [];
      for (const entry of await readdir(dir).catch(() => [] as string[])) {
        if (entry === name || entry === `.${name}.tmp`) continue;
        if (entry.startsWith('.')) {
          // A rename a killed process did not get to.
          const pid = pidOf(entry);
          if (pid > 0 && !pidAlive(pid)) await rm(join(dir, entry), { force: true });
          continue;
        }
        const stored = await read(entry);
        if (!stored) continue;
        if (await alive(stored))
          entries.push({ pid: stored.pid, intent: stored.intent, command: stored.command });
        else await rm(join(dir, entry), { force: true });
      }
      return entries;
    },
    async leave() {
      await rm(file, { force: true });
      await rm(join(dir, `.${name}.tmp`), { force: true });
    },
  };
};

/** "pid 123 (src/main.ts), pid 456 (src/cli.ts projections:rebuild)" */
export const describeProcesses = (entries: readonly ProcessEntry[]): string =>
  entries.map((e) => `pid ${e.pid} (${e.command})`).join(', ');
