// log:migrate --to esdb end to end: a PostgreSQL log (a live Telegram conversation plus a few long
// ones loaded in bulk) copied by the CLI into the EventStoreDB stand-in, the CLI killed with SIGKILL a
// third of the way and run again; then the copy verified, the audit history read the same from the
// new log, and the app started on it with the Telegram stand-in: what was delivered is not sent again,
// what was waiting is, and so is a new message. MIGRATE_TEST_EVENTS events, 20 000 by default so the
// test stays well under a minute (100 000 take about 2 min on 2 cores; `npm run bench -- migrate` copies
// 100 000 and reports the rate).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { copyHistory, type HistorySpec, historyOf, skipToHead } from '../../bench/growth-history.ts';
import { conversationIdOf } from '../../src/adapters/ids.ts';
import { CheckpointLogMismatchError } from '../../src/adapters/postgres/checkpoint-log.ts';
import { type App, startApp } from '../../src/app/app.ts';
import { reactorLockKey } from '../../src/projections/reactor-runner.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import { cli } from '../support/cli.ts';
import { type EsdbStandIn, startEsdbStandIn } from '../support/esdb-stand-in.ts';
import { testLogger } from '../support/test-logger.ts';

const EVENTS = Number(process.env.MIGRATE_TEST_EVENTS ?? 20_000);
const BULK_CONVERSATIONS = 4;
const root = join(import.meta.dirname, '..', '..');

/** The CLI as a child process of our own, so that the test can SIGKILL it. */
const startCli = (args: string[], env: Record<string, string>) => {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    stdout += d;
  });
  child.stderr!.on('data', (d: string) => {
    stderr += d;
  });
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
};

describe('log:migrate --to esdb (CLI, EventStoreDB stand-in, Telegram stand-in)', () => {
  let h: Harness;
  let esdb: EsdbStandIn;
  let env: Record<string, string>;
  const config = (extra: Record<string, string> = {}) => h.config({ LOG_LEVEL: 'silent', ...extra });
  const apps: App[] = [];
  const start = async (extra: Record<string, string> = {}) => {
    const app = await startApp(config(extra), testLogger('silent').loggerFor(config()));
    apps.push(app);
    return app;
  };
  /** POSTs an update to an app started here, as Telegram would. */
  const post = async (app: App, update: unknown) => {
    const res = await fetch(`${app.address()}/webhooks/telegram`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET },
      body: JSON.stringify(update),
    });
    assert.equal(res.status, 200);
  };
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await h.db.pool.query<{ n: string }>(sql, params)).rows[0]!.n);

  before(async () => {
    h = await startHarness();
    esdb = await startEsdbStandIn();
    env = {
      DATABASE_URL: h.db.roles!.serviceUrl,
      DATABASE_OWNER_URL: h.db.roles!.ownerUrl,
      PUBLIC_URL: '',
      EVENTSTORE_URL: esdb.url,
    };
  });
  after(async () => {
    for (const app of apps) await app.stop();
    await h.stop();
    await esdb.stop();
  });

  it('copies the log, survives a kill, verifies, and the app goes on on the new log', async () => {
    // 1. A live conversation on PostgreSQL: a client message in its topic and an answer delivered.
    const user = h.tg.addUser({ first_name: 'Olga' });
    await h.send(h.tg.privateMessage(user, { text: 'before the move' }));
    const topic = await h.topicOf(user.id);
    const manager = h.tg.addManager({ first_name: 'Alice' });
    await h.send(h.tg.groupMessage(manager, topic, { text: 'answered on PostgreSQL' }));
    await waitFor('the answer delivered', () =>
      h.tg.messagesIn(user.chat.id).find((m) => m.text === 'answered on PostgreSQL'),
    );
    await h.app.stop();

    // 2. Long conversations delivered long ago, loaded in bulk; the reactors are past them.
    const live = await count('SELECT count(*) AS n FROM td_events');
    const perConversation = Math.floor((EVENTS - live - 1) / BULK_CONVERSATIONS);
    const loadStarted = performance.now();
    for (let i = 0; i < BULK_CONVERSATIONS; i++) {
      const spec: HistorySpec = {
        channel: 'telegram',
        source: 'telegram',
        clientId: String(900_000 + i),
        profile: { firstName: `Bulk ${i}` },
        topicId: String(800_000 + i),
        supportChatId: String(h.tg.supportChatId),
        messages: 1_000_000,
        seed: i + 1,
      };
      let n = 0;
      const rows = (function* () {
        for (const row of historyOf(spec)) {
          if (n++ >= perConversation) return;
          yield row;
        }
      })();
      await copyHistory({ url: h.db.url, pool: h.db.pool, stop: async () => {} }, rows, { chunk: 50_000 });
    }
    await skipToHead(
      { url: h.db.url, pool: h.db.pool, stop: async () => {} },
      ['telegram', 'webhooks'],
      true,
    );
    console.log(
      `# loaded ${await count('SELECT count(*) AS n FROM td_events')} events in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`,
    );

    // 3. A client message recorded while the Telegram reactor was held off: waiting to be forwarded.
    const holder = new pg.Client(h.db.url);
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock(hashtext($1))', [reactorLockKey('telegram')]);
    let app = await start();
    await post(app, h.tg.privateMessage(user, { text: 'waiting while the log moves' }));
    await app.stop();
    await holder.end();
    const total = await count('SELECT count(*) AS n FROM td_events');
    assert.ok(total >= EVENTS, `${total} events`);
    const conversation = h.conversationOf(user.id);
    const topicBefore = h.tg.messagesIn(h.tg.supportChatId, topic).map((m) => m.text);
    const clientBefore = h.tg.messagesIn(user.chat.id).map((m) => m.text);
    const historyBefore = await cli(['history', conversation, '--json'], env);
    assert.equal(historyBefore.code, 0, historyBefore.stderr);
    const bulkConversation = conversationIdOf('telegram', 'telegram', '900002');
    const bulkBefore = await cli(['history', bulkConversation, '--json'], env);
    assert.equal(bulkBefore.code, 0, bulkBefore.stderr);

    // The event each reactor had handled last, by id.
    const reactorEvents = async () =>
      (
        await h.db.pool.query<{ name: string; event_id: string }>(
          `SELECT r.name, e.event_id FROM td_reactors r
             JOIN td_events e ON e.transaction_id::text::bigint = r.checkpoint_commit AND e.position = r.checkpoint_prepare
            ORDER BY r.name`,
        )
      ).rows;
    const handledLast = await reactorEvents();
    assert.equal(handledLast.length, 2, 'telegram and webhooks have checkpoints');

    // 4. Switching EVENT_STORE without migrating is refused, naming the way out.
    await assert.rejects(
      startApp(
        config({ EVENT_STORE: 'esdb', EVENTSTORE_URL: esdb.url }),
        testLogger('silent').loggerFor(config()),
      ),
      (error: unknown) =>
        error instanceof CheckpointLogMismatchError && /log:migrate --to esdb/.test(error.message),
    );

    // 5. log:migrate, killed with SIGKILL a third of the way, then run again to the end.
    const first = startCli(['log:migrate', '--to', 'esdb'], env);
    await waitFor(
      'a third of the log copied',
      async () =>
        (await count('SELECT coalesce(max(copied), 0) AS n FROM td_log_copy').catch(() => 0)) >= total / 3,
      120_000,
    );
    first.child.kill('SIGKILL');
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const copiedBeforeKill = await count('SELECT copied AS n FROM td_log_copy');
    assert.ok(copiedBeforeKill < total, 'killed before the end');
    assert.equal(
      await count(`SELECT count(*) AS n FROM td_checkpoint_log WHERE log = 'postgres'`),
      1,
      'nothing moved before the copy verified',
    );

    const second = startCli(['log:migrate', '--to', 'esdb'], env);
    const run = await second.done;
    assert.equal(run.code, 0, run.stderr + run.stdout);
    console.log(run.stdout.replace(/^/gm, '# '));
    assert.match(run.stdout, /resuming: \d+ of \d+ events were copied by an earlier run/);
    const rate = /copied (\d+) events in ([\d.]+) s \((\d+) events\/s\)/.exec(run.stdout);
    assert.ok(rate, run.stdout);
    console.log(
      `# migration rate: ${rate[3]} events/s (${rate[1]} events after the resume, ${total} in all)`,
    );
    assert.match(run.stdout, new RegExp(`verified: ${total} events in \\d+ streams on both sides`));

    // Every event once, with its id, stream and revision.
    const stored = esdb.events().filter((e) => !e.stream.startsWith('$'));
    assert.equal(stored.length, total);
    assert.equal(new Set(stored.map((e) => e.id)).size, total, 'no event appended twice');

    // Each reactor's checkpoint is now the EventStoreDB position of the very event it had handled last.
    const positionById = new Map(stored.map((e) => [e.id, e.position]));
    const { rows: mapped } = await h.db.pool.query<{ name: string; c: string; p: string }>(
      'SELECT name, checkpoint_commit::text AS c, checkpoint_prepare::text AS p FROM td_reactors ORDER BY name',
    );
    for (const [i, r] of mapped.entries()) {
      const at = String(positionById.get(handledLast[i]!.event_id));
      assert.deepEqual([r.name, r.c, r.p], [handledLast[i]!.name, at, at]);
    }

    // 6. The audit history reads the same from the new log (recording times included).
    const esdbEnv = { ...env, EVENT_STORE: 'esdb' };
    const historyAfter = await cli(['history', conversation, '--json'], esdbEnv);
    assert.equal(historyAfter.code, 0, historyAfter.stderr);
    // Everything but the log positions, which are the new log's own.
    const withoutPositions = (json: string) =>
      JSON.parse(json.replaceAll(/"position": "[^"]*"/g, '"position": ""'));
    assert.deepEqual(withoutPositions(historyAfter.stdout), withoutPositions(historyBefore.stdout));
    const bulkAfter = await cli(['history', bulkConversation, '--json'], esdbEnv);
    assert.equal(bulkAfter.code, 0, bulkAfter.stderr);
    assert.deepEqual(withoutPositions(bulkAfter.stdout), withoutPositions(bulkBefore.stdout));

    // 7. The app on EventStoreDB: the waiting message is forwarded, a new one too, nothing else is sent.
    app = await start({ EVENT_STORE: 'esdb', EVENTSTORE_URL: esdb.url });
    try {
      await waitFor('the waiting message in the topic', () =>
        h.tg.messagesIn(h.tg.supportChatId, topic).find((m) => m.text === 'waiting while the log moves'),
      );
      await post(app, h.tg.privateMessage(user, { text: 'after the move' }));
      await waitFor('the new message in the topic', () =>
        h.tg.messagesIn(h.tg.supportChatId, topic).find((m) => m.text === 'after the move'),
      );
      await new Promise((r) => setTimeout(r, 500)); // anything sent twice would come now
      assert.deepEqual(
        h.tg.messagesIn(h.tg.supportChatId, topic).map((m) => m.text),
        [...topicBefore, 'waiting while the log moves', 'after the move'],
      );
      assert.deepEqual(
        h.tg.messagesIn(user.chat.id).map((m) => m.text),
        [...clientBefore, 'after the move'],
        'the client got nothing again',
      );
      const appended = esdb.events().filter((e) => !e.stream.startsWith('$')).length - total;
      assert.ok(appended >= 3, `the app appends to EventStoreDB now (${appended} events)`);
    } finally {
      await app.stop();
    }
  });
});
