// Fault 1: the app is SIGKILLed (a real child process, `node --import tsx src/main.ts`) several times
// while about 1 000 messages flow both ways — Telegram clients writing to the bot through
// /webhooks/telegram, a manager answering each in the client's topic — and started again at once.
// The sender retries what was not answered 2xx, as Telegram does. Every accepted message must reach
// its destination, in order; a message may arrive twice only when the killed process had made the
// call and died before recording it: at most one per conversation per kill (the reactor carries one
// message of a conversation at a time, and up to REACTOR_CONCURRENCY conversations at once: 16 by
// default), and at most one per kill with REACTOR_CONCURRENCY=1. Both settings are run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { telegramStandInEnv } from '../support/app-env.ts';
import { type AppProcess, startAppProcess } from '../support/app-process.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.ts';
import {
  KILL_MESSAGES,
  KILLS,
  REACTOR_CONCURRENCY,
  recordedTexts,
  report,
  seconds,
  settled,
  sleep,
  telegramTraffic,
} from './support.ts';

const SECRET = 'faults_kill_secret';
const CLIENTS = 50;

const killScenario = (label: string, concurrency: number) =>
  describe(`fault: SIGKILL of the app while messages flow both ways (REACTOR_CONCURRENCY=${concurrency})`, () => {
    let db: TestDatabase;
    let tg: TelegramStandIn;
    const apps: AppProcess[] = [];

    before(async () => {
      db = await createTestDatabase({ migrate: false }); // the app migrates
      tg = await startTelegramStandIn();
    });
    after(async () => {
      await Promise.all(apps.map((a) => a.stop()));
      await tg?.close();
      await db?.drop();
    });

    const start = async () => {
      const app = await startAppProcess({
        name: `app-${apps.length + 1}`,
        readyTimeoutMs: 60_000,
        env: {
          DATABASE_URL: db.url,
          ...telegramStandInEnv(tg, SECRET),
          REACTOR_CONCURRENCY: String(concurrency),
          LOG_LEVEL: 'info', // app-process.ts waits for the 'listening' line
        },
      });
      apps.push(app);
      return app;
    };

    it('every accepted message reaches its destination; a repeat only for a call in flight at a kill', {
      timeout: 900_000,
    }, async () => {
      const t0 = Date.now();
      let current = await start();
      const traffic = telegramTraffic({
        tg,
        url: () => current.url,
        secret: SECRET,
        prefix: 'K',
        clients: CLIENTS,
      });
      try {
        await traffic.warmUp();
        const rounds = Math.max(1, Math.round((KILL_MESSAGES / CLIENTS - 1) / 2));
        const total = CLIENTS * (1 + 2 * rounds);
        const flowing = traffic.run(rounds);

        // Kill at evenly spaced points of the flow, each time when the reactor is at work.
        const kills: { at: number; downMs: number }[] = [];
        for (let k = 1; k <= KILLS; k++) {
          const target = Math.floor((total * k) / (KILLS + 1));
          while (traffic.sent.length < target) await sleep(20);
          const copiesBefore = tg.callsTo('copyMessage').length;
          const busyBy = Date.now() + 5000;
          while (tg.callsTo('copyMessage').length < copiesBefore + 3 && Date.now() < busyBy) await sleep(5);
          const at = Date.now();
          await current.kill('SIGKILL');
          current = await start();
          kills.push({ at, downMs: Date.now() - at });
        }
        await flowing;

        const t = await traffic.arrived(180_000);
        const lagging = await settled(db.pool, 60_000);
        const recorded = await recordedTexts(db.pool);

        // Each repeat follows a kill: the copy before it was made by the killed process, by the kill
        // at the latest (give a request still on the wire, or in the stand-in's queue, 2 s; the next
        // process needs longer than that to start), the repeat after it.
        const repeatsPerKill = kills.map(() => new Set<string>());
        const unexplained: string[] = [];
        for (const d of t.duplicates) {
          const copies = [...d.copies].sort((a, b) => a.at - b.at);
          for (let i = 1; i < copies.length; i++) {
            const k = kills.findIndex(
              (kill) => copies[i - 1]!.at <= kill.at + 2000 && copies[i]!.at >= kill.at,
            );
            if (k < 0)
              unexplained.push(`${d.sent.text} (copies at ${copies.map((c) => c.at - t0).join(', ')} ms)`);
            else if (repeatsPerKill[k]!.has(d.sent.conversation.label))
              unexplained.push(
                `${d.sent.text}: a second repeat in ${d.sent.conversation.label} at kill ${k + 1}`,
              );
            else repeatsPerKill[k]!.add(d.sent.conversation.label);
          }
        }

        report(
          label,
          t,
          `${kills.length} kills (down ${kills.map((k) => seconds(k.downMs)).join(', ')}; repeats per kill ` +
            `${repeatsPerKill.map((r) => r.size).join(', ')}), ${t.retried} requests retried by the sender, ` +
            `${seconds(Date.now() - t0)}`,
        );

        assert.equal(
          t.lost,
          0,
          `every accepted message arrived; missing: ${t.lostTexts.slice(0, 10).join(', ')}`,
        );
        assert.equal(t.accepted, total, 'the sender got every message accepted in the end');
        assert.deepEqual(t.outOfOrder, [], 'in order within each conversation');
        assert.deepEqual(t.misplaced, [], 'each client message in its own topic');
        assert.deepEqual(
          unexplained,
          [],
          'every repeat is a call the killed process made and never recorded',
        );
        for (const [k, r] of repeatsPerKill.entries())
          assert.ok(
            r.size <= concurrency,
            `kill ${k + 1}: ${r.size} repeats, at most one per conversation in flight (${concurrency} at once)`,
          );
        assert.equal(
          tg.topics().filter((x) => x.name.startsWith('K')).length,
          CLIENTS,
          'one topic per client',
        );
        for (const s of traffic.sent)
          assert.equal(recorded.get(s.text), 1, `${s.text} recorded once in the log`);
        assert.deepEqual(lagging, [], 'every projection and reactor handled every event once');
      } catch (error) {
        for (const app of apps) console.error(`---- log of ${app.name} ----\n${app.logs(60)}`);
        throw error;
      }
    });
  });

killScenario('sigkill', REACTOR_CONCURRENCY);
killScenario('sigkill, one conversation at a time', 1);
