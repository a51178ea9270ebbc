// The entries that tell whether another live topicdesk process uses the embedded PostgreSQL: a
// process's own entry is not among the others; an entry of a process that died, or of a pid now
// reused by another process, is removed and not counted; a live process's entry counts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { joinProcesses, processStarted } from '../../src/adapters/postgres/embedded-processes.ts';

/** A pid that belonged to a process which has exited. */
const deadPid = async (): Promise<number> => {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
};

describe('embedded PostgreSQL process entries', () => {
  let dir: string;
  const sleeper = spawn('sleep', ['60']);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'topicdesk-processes-'));
  });
  after(async () => {
    sleeper.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  const entry = (name: string, value: unknown) =>
    writeFile(join(dir, name), typeof value === 'string' ? value : JSON.stringify(value));

  it('sees the others, not itself, with what each is about to do', async () => {
    const a = await joinProcesses(dir);
    const b = await joinProcesses(dir);
    const [other] = await a.others();
    assert.equal(other?.pid, process.pid);
    assert.equal(other?.intent, 'deciding');
    assert.match(other?.command ?? '', /embedded-processes\.unit\.test\.ts/);
    await b.set('using');
    assert.deepEqual(
      (await a.others()).map((o) => o.intent),
      ['using'],
    );
    await b.leave();
    assert.deepEqual(await a.others(), []);
    await a.leave();
    assert.deepEqual(await readdir(dir), []);
  });

  it('removes the entry of a process that died, and of a pid another process now has', {
    skip: process.platform === 'linux' ? false : 'start times are read from /proc on Linux only',
  }, async () => {
    const dead = await deadPid();
    assert.equal(await processStarted(dead), null);
    await entry(`${dead}-aaaa`, { pid: dead, intent: 'using', command: 'src/main.ts', started: 'x/1' });
    // The sleeper's pid, recorded with another start time: the process that wrote it is gone.
    await entry(`${sleeper.pid}-bbbb`, { pid: sleeper.pid, intent: 'using', command: 'x', started: 'x/1' });
    await entry(`.${dead}-cccc.tmp`, '{');
    const me = await joinProcesses(dir);
    assert.deepEqual(await me.others(), []);
    assert.deepEqual((await readdir(dir)).length, 1, 'only its own entry is left');
    await me.leave();
  });

  it('counts a live process by its pid and start time, and an unreadable entry of a live pid as using', async () => {
    const started = await processStarted(sleeper.pid!);
    if (process.platform === 'linux') assert.match(started ?? '', /^[\w-]*\/\d+$/);
    await entry(`${sleeper.pid}-dddd`, {
      pid: sleeper.pid,
      intent: 'stopping',
      command: 'sleep 60',
      started: started ?? null,
    });
    await entry(`${process.pid}-eeee`, 'not json');
    const me = await joinProcesses(dir);
    assert.deepEqual(
      (await me.others()).sort((x, y) => x.pid - y.pid).map((o) => [o.pid, o.intent]),
      [
        [sleeper.pid, 'stopping'],
        [process.pid, 'using'],
      ].sort((x, y) => (x[0] as number) - (y[0] as number)),
    );
    await me.leave();
  });
});
