// Fault 3: PostgreSQL is stopped for FAULTS_DB_OUTAGE_MS and started again (same data, same port)
// while Telegram clients write and a manager answers. The app (a real child process) is not
// restarted: it must answer the webhook non-2xx while the database is down (the sender delivers those
// updates again, as Telegram does), report itself not ready, and carry on by itself once the database
// is back — every accepted message delivered, the process never exited. A delivery whose outcome could
// not be recorded while the database was down is made again afterwards: at most one per conversation.
//
// The shared test cluster serves every other test file, so this scenario runs its own embedded
// PostgreSQL in a temporary directory.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/adapters/postgres/embedded.ts';
import { telegramStandInEnv } from '../support/app-env.ts';
import { type AppProcess, startAppProcess } from '../support/app-process.ts';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.ts';
import {
  DB_OUTAGE_MS,
  freePort,
  REACTOR_CONCURRENCY,
  recordedTexts,
  report,
  seconds,
  settled,
  sleep,
  telegramTraffic,
} from './support.ts';

const SECRET = 'faults_postgres_secret';
const CLIENTS = 30;
const ROUNDS = 8;

describe('fault: PostgreSQL stopped and started again under load', () => {
  let dataDir: string;
  let port: number;
  let server: EmbeddedPostgres | undefined;
  let tg: TelegramStandIn;
  let app: AppProcess | undefined;

  /** The same server again: same data directory, same port (not throwaway, so stop() keeps the data). */
  const startServer = async () => {
    server = await startEmbeddedPostgres({ dataDir, port, unsafeFast: true });
    return server;
  };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'topicdesk-faults-pg-'));
    port = await freePort();
    const s = await startServer();
    const admin = new pg.Client(s.url);
    await admin.connect();
    await admin.query('CREATE DATABASE topicdesk');
    await admin.end();
    tg = await startTelegramStandIn();
  });
  after(async () => {
    await app?.stop();
    await tg?.close();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('the app recovers by itself and loses nothing it accepted', {
    timeout: DB_OUTAGE_MS + 400_000,
  }, async () => {
    const url = server!.url.replace(/\/postgres(?=\?|$)/, '/topicdesk');
    app = await startAppProcess({
      name: 'app',
      readyTimeoutMs: 60_000,
      env: {
        DATABASE_URL: url,
        ...telegramStandInEnv(tg, SECRET),
        LOG_LEVEL: 'info', // app-process.ts waits for the 'listening' line
      },
    });
    const running = app;
    const t0 = Date.now();
    try {
      const traffic = telegramTraffic({
        tg,
        url: () => running.url,
        secret: SECRET,
        prefix: 'P',
        clients: CLIENTS,
      });
      await traffic.warmUp();
      // The traffic spans the outage: about two rounds before it, the rest during and after it.
      const pauseMs = Math.max(100, DB_OUTAGE_MS / (ROUNDS - 3));
      const flowing = traffic.run(ROUNDS, pauseMs);
      await sleep(pauseMs * 1.5);

      const readiness: number[] = [];
      const stoppedAt = Date.now();
      await server!.stop();
      const down = Date.now();
      while (Date.now() - down < DB_OUTAGE_MS) {
        readiness.push(
          await fetch(`${running.url}/readyz`, { signal: AbortSignal.timeout(5000) }).then(
            (r) => r.status,
            () => 0,
          ),
        );
        await sleep(500);
      }
      await startServer();
      const upAt = Date.now();
      let readyAfter = Number.NaN;
      while (Date.now() - upAt < 60_000) {
        const status = await fetch(`${running.url}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) {
          readyAfter = Date.now() - upAt;
          break;
        }
        await sleep(100);
      }
      await flowing;

      const t = await traffic.arrived(180_000);
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      pool.on('error', () => undefined);
      const lagging = await settled(pool, 60_000);
      const recorded = await recordedTexts(pool);
      await pool.end();
      const repeatedIn = t.duplicates.map((d) => d.sent.conversation.label);
      report(
        'postgres restart',
        t,
        `PostgreSQL down ${seconds(upAt - stoppedAt)}, /readyz ${[...new Set(readiness)].join('/')} meanwhile, ` +
          `ready ${seconds(readyAfter)} after it was back, ${t.retried} requests retried by the sender, ` +
          `the app never restarted (pid ${running.pid}), ${seconds(Date.now() - t0)}`,
      );

      if (process.env.FAULTS_SHOW_LOGS) console.log(running.logs(5000));
      assert.ok(running.isAlive(), 'the app process is still the same, running');
      assert.ok(
        readiness.every((s) => s !== 200),
        `not ready while the database is down (${readiness})`,
      );
      assert.ok(Number.isFinite(readyAfter), 'ready again once the database is back');
      assert.ok(t.retried > 0, 'the sender had to deliver some updates again');
      assert.equal(t.accepted, t.sent, 'every message accepted in the end');
      assert.equal(
        t.lost,
        0,
        `every accepted message arrived; missing: ${t.lostTexts.slice(0, 10).join(', ')}`,
      );
      assert.deepEqual(t.outOfOrder, [], 'in order within each conversation');
      assert.deepEqual(t.misplaced, [], 'each in its own topic');
      assert.equal(new Set(repeatedIn).size, repeatedIn.length, 'at most one repeat per conversation');
      assert.ok(t.duplicated <= REACTOR_CONCURRENCY, 'no more repeats than calls in flight');
      for (const d of t.duplicates) assert.equal(d.copies.length, 2, `${d.sent.text}: one repeat at most`);
      for (const s of traffic.sent)
        assert.equal(recorded.get(s.text), 1, `${s.text} recorded once in the log`);
      assert.deepEqual(lagging, [], 'every projection and reactor caught up');
      // A lost connection is nobody's fault: no projection leaves its runner's group over it.
      assert.ok(
        !running.logs(100_000).includes('it runs on its own from now on'),
        'no projection left its group over the outage',
      );
    } catch (error) {
      console.error(`---- log of the app ----\n${running.logs(80)}`);
      throw error;
    }
  });
});
