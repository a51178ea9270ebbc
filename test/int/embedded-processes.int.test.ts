// Several processes on one embedded PostgreSQL data directory, as the app, CLI commands and a
// second `npm start` are: started at the same moment on an empty DATA_DIR they initialise one
// cluster and share one server; joining and leaving in any order, none ever loses it while it
// uses it; the last one out stops it.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/adapters/postgres/embedded.ts';
import { processStarted } from '../../src/adapters/postgres/embedded-processes.ts';
import { waitFor } from '../support/app-harness.ts';

const root = join(import.meta.dirname, '..', '..');

/** Whether `pid` runs (an exited process its parent has not reaped yet does not). */
const alive = async (pid: number) => (await processStarted(pid)) !== null;

interface User {
  readonly child: ChildProcess;
  /** Resolves once the process is on the server. */
  readonly on: Promise<{ started: boolean; port: number }>;
  /** Tells it to leave; resolves with what it reports when done. */
  leave(): Promise<{ queries: number; failures: string[]; code: number | null }>;
  stderr(): string;
}

const startUser = (dataDir: string, port: number): User => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/embedded-user-process.ts', dataDir, String(port)],
    { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, stdio: 'pipe' },
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const lines: Array<Record<string, unknown>> = [];
  const listeners: Array<() => void> = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const parts = out.split('\n');
    out = parts.pop() ?? '';
    for (const p of parts) lines.push(JSON.parse(p) as Record<string, unknown>);
    for (const l of listeners) l();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const line = (key: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = lines.find((l) => l[key]);
        if (found) resolve(found);
      };
      listeners.push(check);
      check();
      void exited.then(() => {
        check();
        reject(new Error(`the process exited before "${key}":\n${err}`));
      });
    });
  return {
    child,
    on: line('on') as Promise<{ started: boolean; port: number }>,
    async leave() {
      child.stdin.end();
      const done = (await line('done')) as { queries: number; failures: string[] };
      return { ...done, code: await exited };
    },
    stderr: () => err,
  };
};

describe('several processes on one embedded PostgreSQL data directory', () => {
  const dataDir = join(
    tmpdir(),
    `topicdesk-embedded-processes-${process.pid}-${randomBytes(3).toString('hex')}`,
  );
  const users: User[] = [];
  const postmaster = async (): Promise<number | undefined> => {
    const text = await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').catch(() => '');
    const pid = Number(text.split('\n')[0]);
    return pid > 0 && (await alive(pid)) ? pid : undefined;
  };
  after(async () => {
    for (const u of users) u.child.kill('SIGKILL');
    const pid = await postmaster();
    if (pid) process.kill(pid, 'SIGINT');
    await waitFor('the server to stop', async () => !(await postmaster()), 30_000).catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('three started at once on an empty directory share one server, which the last one out stops', async () => {
    const port = await freePort();
    const three = [0, 1, 2].map(() => startUser(dataDir, port));
    users.push(...three);
    const on = await Promise.all(three.map((u) => u.on));
    assert.equal(on.filter((o) => o.started).length, 1, `one started it: ${JSON.stringify(on)}`);
    assert.deepEqual(
      on.map((o) => o.port),
      [port, port, port],
    );
    const server = await postmaster();
    assert.ok(server);
    for (const [i, u] of three.entries()) {
      const done = await u.leave();
      assert.deepEqual(done.failures, [], u.stderr());
      assert.ok(done.queries > 0);
      assert.equal(done.code, 0);
      if (i < 2) assert.equal(await postmaster(), server, 'left running for the others');
    }
    assert.equal(await postmaster(), undefined, 'the last one out stopped it');
  });

  it('processes joining and leaving at random never lose the server while they use it', async () => {
    const port = await freePort();
    const live: User[] = [];
    const left: Array<Awaited<ReturnType<User['leave']>> & { log: string }> = [];
    const leaving: Promise<void>[] = [];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const leaveOne = () => {
      const u = live.splice(Math.floor(random() * live.length), 1)[0]!;
      leaving.push(u.leave().then((d) => void left.push({ ...d, log: u.stderr() })));
    };
    for (let round = 0; round < 10; round += 1) {
      // One or two join (not waiting for them to be on), then one may leave while others start.
      for (let n = random() < 0.5 ? 1 : 2; n > 0; n -= 1) {
        const u = startUser(dataDir, port);
        users.push(u);
        live.push(u);
      }
      await live.at(-1)!.on;
      if (live.length > 2 || random() < 0.5) {
        await Promise.all(live.map((u) => u.on));
        leaveOne();
      }
      await new Promise((r) => setTimeout(r, random() * 300));
    }
    await Promise.all(live.map((u) => u.on));
    while (live.length > 0) leaveOne();
    await Promise.all(leaving);
    assert.ok(left.length >= 10);
    for (const d of left) {
      assert.deepEqual(d.failures, [], d.log);
      assert.equal(d.code, 0, d.log);
    }
    assert.equal(await postmaster(), undefined, 'the last one out stopped it');
  });
});
