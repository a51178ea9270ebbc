// `npm start` on the embedded default (no DATABASE_URL) as a real child process, and the CLI beside
// it: CLI commands run in their own processes on the app's PostgreSQL server while the app keeps
// answering; a second `npm start` on the same DATA_DIR shares the server; whichever process leaves
// last stops it, the others never pull it from under a process still using it; and a server left
// behind by a SIGKILLed app is stopped and started afresh by the next start.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { freePort } from '../../src/adapters/postgres/embedded.ts';
import { processStarted } from '../../src/adapters/postgres/embedded-processes.ts';
import { loadConfig } from '../../src/app/config.ts';
import { openContext } from '../../src/app/context.ts';
import { waitFor } from '../support/app-harness.ts';
import { type AppProcess, startAppProcess } from '../support/app-process.ts';
import { cli } from '../support/cli.ts';

/** Whether `pid` runs (an exited process its parent has not reaped yet does not). */
const alive = async (pid: number) => (await processStarted(pid)) !== null;

/** /readyz every 100 ms until stopped: every status it answered (0: no answer). */
const watchReadiness = (app: AppProcess) => {
  const statuses: number[] = [];
  let watching = true;
  const done = (async () => {
    while (watching) {
      statuses.push(
        await fetch(`${app.url}/readyz`, { signal: AbortSignal.timeout(5000) }).then(
          (r) => r.status,
          () => 0,
        ),
      );
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      watching = false;
      await done;
      return statuses;
    },
  };
};

describe('the embedded default shared by the app, the CLI and a second start', () => {
  let dataDir: string;
  let pgPort: number;
  let token: string;
  const apps: AppProcess[] = [];
  const env = () => ({
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(pgPort),
    API_WRITE_WAIT_MS: '10000',
  });
  const start = async (name: string, extra: Record<string, string> = {}) => {
    const app = await startAppProcess({
      name,
      readyTimeoutMs: 90_000,
      env: { ...env(), LOG_LEVEL: 'info', ...extra },
    });
    apps.push(app);
    return app;
  };
  /** The pid of the PostgreSQL server holding the data directory, or undefined when none does. */
  const postmaster = async (): Promise<number | undefined> => {
    const text = await readFile(join(dataDir, 'postgres', 'pg', 'postmaster.pid'), 'utf8').catch(() => '');
    const pid = Number(text.split('\n')[0]);
    return pid > 0 && (await alive(pid)) ? pid : undefined;
  };
  const post = (app: AppProcess, externalId: string, text: string) =>
    fetch(`${app.url}/api/external/${externalId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
    });
  const listed = async (app: AppProcess) => {
    const res = await fetch(`${app.url}/api/external/messages?limit=200`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { messages: Array<{ text: string }> }).messages.map((m) => m.text);
  };
  const logsOf = () => apps.map((a) => a.logs(60)).join('\n');

  before(async () => {
    // Not mkdtemp: its 0700 directory would shut out the unprivileged `postgres` user when run as root.
    dataDir = join(tmpdir(), `topicdesk-embedded-shared-${process.pid}-${randomBytes(3).toString('hex')}`);
    pgPort = await freePort();
  });
  after(async () => {
    for (const app of apps) await app.kill('SIGKILL');
    const pid = await postmaster();
    if (pid) process.kill(pid, 'SIGINT');
    await waitFor('the test server to stop', async () => !(await postmaster()), 30_000).catch(
      () => undefined,
    );
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs CLI commands on the running app’s server while the app keeps answering', async () => {
    const app = await start('app');
    const server = await postmaster();
    assert.ok(server, 'the app started a PostgreSQL server');
    let statuses: number[] = [];
    const readiness = watchReadiness(app);
    try {
      const created = await cli(['sources:create', 'shop'], env());
      assert.equal(created.code, 0, created.stderr);
      token = created.lines.at(-1)!;
      assert.match(token, /^td_/);
      assert.equal(await postmaster(), server, 'sources:create left the app’s server running');
      await waitFor(
        'the app to know the new token',
        async () => (await post(app, 'ada', 'written beside the CLI')).status === 201,
        20_000,
      );

      const status = await cli(['projections:status'], env());
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /messages/);
      const rebuilt = await cli(['projections:rebuild', 'messages'], env());
      assert.equal(rebuilt.code, 0, rebuilt.stderr);
      const history = await cli(['history', 'external:shop:ada', '--json'], env());
      assert.equal(history.code, 0, history.stderr);
      assert.match(history.stdout, /written beside the CLI/);
    } finally {
      statuses = await readiness.stop();
    }
    assert.ok(statuses.length > 10, `readiness was checked (${statuses.length} times)`);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      `/readyz answered 200 throughout\n${app.logs(40)}`,
    );
    assert.equal(await postmaster(), server, 'the CLI used the app’s server; nobody stopped or replaced it');
    assert.equal((await post(app, 'ada', 'written after the CLI')).status, 201);
    assert.deepEqual(await listed(app), ['written beside the CLI', 'written after the CLI']);
  });

  it('a second start on the same DATA_DIR shares the server, and the first can stop before it', async () => {
    const first = apps.at(-1)!;
    const server = await postmaster();
    const second = await start('second');
    assert.equal(await postmaster(), server, 'the second start did not stop or replace the server');
    assert.ok(first.isAlive(), 'the first still runs');
    assert.equal((await post(second, 'bob', 'written through the second')).status, 201);

    // A third on the first's PORT cannot listen: it fails with that, and leaves the server alone.
    const failed = await start('third', { PORT: new URL(first.url).port }).then(
      () => 'started',
      (error: Error) => error.message,
    );
    assert.match(failed, /exited during start-up[\s\S]*EADDRINUSE/);
    assert.equal(await postmaster(), server, 'the failed start left the server running');
    assert.equal((await fetch(`${first.url}/readyz`)).status, 200);

    await first.stop();
    assert.deepEqual(await first.exited, { code: 0, signal: null });
    assert.equal(await postmaster(), server, 'the first left the server running for the second');
    assert.equal(
      (await fetch(`${second.url}/readyz`)).status,
      200,
      `the second still answers\n${second.logs(40)}`,
    );
    assert.equal((await post(second, 'bob', 'written after the first stopped')).status, 201);

    await second.stop();
    assert.deepEqual(await second.exited, { code: 0, signal: null });
    assert.equal(await postmaster(), undefined, `the last one out stopped the server\n${logsOf()}`);
  });

  it('an app that stops while a CLI command uses the server leaves it to the command, which stops it', async () => {
    const app = await start('app-2');
    const server = await postmaster();
    // What every CLI command does first (openContext), in this process, kept open across the app's stop.
    const ctx = await openContext({
      config: loadConfig({ ...env(), DATABASE_URL: '', DATABASE_OWNER_URL: '' }),
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    });
    try {
      await app.stop();
      assert.deepEqual(await app.exited, { code: 0, signal: null });
      assert.equal(await postmaster(), server, 'the app left the server to the command still using it');
      const { rows } = await ctx.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM td_events');
      assert.ok(Number(rows[0]!.n) > 0, 'the command still reads the log');
    } finally {
      await ctx.close();
    }
    assert.equal(await postmaster(), undefined, 'the command, last out, stopped the server');

    const next = await start('app-3');
    assert.deepEqual(await listed(next), [
      'written beside the CLI',
      'written after the CLI',
      'written through the second',
      'written after the first stopped',
    ]);
    await next.stop();
    assert.equal(await postmaster(), undefined);
  });

  it('a server left behind by a SIGKILLed app is stopped and started afresh by the next start', async () => {
    const killed = await start('killed');
    const orphan = await postmaster();
    assert.ok(orphan);
    await killed.kill('SIGKILL');
    assert.equal(await postmaster(), orphan, 'SIGKILL leaves the server running');

    const next = await start('after-kill');
    const server = await postmaster();
    assert.ok(server);
    assert.notEqual(server, orphan, 'a new server');
    assert.equal(await alive(orphan), false, 'the left-behind server was stopped');
    assert.match(next.logs(), /still holds the data directory/);
    assert.equal((await post(next, 'ada', 'written after the kill')).status, 201);
    assert.equal((await listed(next)).at(-1), 'written after the kill');
    await next.stop();
    assert.equal(await postmaster(), undefined);
  });
});
