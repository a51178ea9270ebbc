// The whole app on EventStoreDB / KurrentDB, as docker compose runs it (EVENT_STORE=esdb): the app
// process starts against the node in EVENTSTORE_URL, answers /readyz, and carries one external-API
// message into its topic and the manager's answer back to the source's webhook. Against the node in
// EVENTSTORE_URL (the hosted CI's KurrentDB service), else against the wire-level stand-in this file
// starts itself. Names are unique per run, so runs can share a node.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createEsdbEventLog } from '../../src/adapters/eventstore/esdb-event-log.ts';
import { authenticate, createSource } from '../../src/adapters/sources/sources.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { telegramStandInEnv } from '../support/app-env.ts';
import { waitFor } from '../support/app-harness.ts';
import { type AppProcess, startAppProcess } from '../support/app-process.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { type EsdbStandIn, startEsdbStandIn } from '../support/esdb-stand-in.ts';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.ts';
import {
  RECEIVER_ALLOWANCE,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';

const WEBHOOK_SECRET = 'esdb_app_secret';

describe(`the app on EventStoreDB (${process.env.EVENTSTORE_URL ? 'EVENTSTORE_URL' : 'the stand-in'})`, () => {
  let standIn: EsdbStandIn | undefined;
  let url: string | undefined = process.env.EVENTSTORE_URL;
  const run = randomUUID().slice(0, 8);
  let db: TestDatabase;
  let tg: TelegramStandIn;
  let receiver: WebhookReceiver;
  let log: EventLog;
  let app: AppProcess;

  before(async () => {
    if (!url) {
      standIn = await startEsdbStandIn();
      url = standIn.url;
    }
    db = await createTestDatabase({ migrate: false }); // the app migrates its read models itself
    tg = await startTelegramStandIn();
    receiver = await startWebhookReceiver();
    log = createEsdbEventLog({ connectionString: url! });
    app = await startAppProcess({
      name: 'esdb-app',
      env: {
        EVENT_STORE: 'esdb',
        EVENTSTORE_URL: url!,
        DATABASE_URL: db.url,
        ...telegramStandInEnv(tg, WEBHOOK_SECRET),
        WEBHOOK_RETRY_INITIAL_MS: '200',
        WEBHOOK_ALLOW_PRIVATE: RECEIVER_ALLOWANCE,
        LOG_LEVEL: 'info',
      },
      readyTimeoutMs: 60_000,
    });
  });
  after(async () => {
    if (app && process.env.TEST_SHOW_LOGS) console.log(app.logs(500));
    await app?.stop();
    await log?.close();
    await receiver?.close();
    await tg?.close();
    await db?.drop();
    await standIn?.stop();
  });

  it('is ready, the event log included', async () => {
    const res = await fetch(`${app.url}/readyz`);
    assert.equal(res.status, 200, app.logs(50));
    assert.deepEqual(await res.json(), { status: 'ready', checks: { eventLog: 'ok', database: 'ok' } });
    assert.match(app.logs(), /event log: EventStoreDB at esdb:\/\/\S+ serves reads/);
  });

  it("carries an external-API message into its topic and the manager's answer back to the source", async () => {
    try {
      const source = await createSource(log, `site-${run}`, await receiver.hook('/hook'));
      await waitFor(
        'the source token accepted',
        async () => ((await authenticate(db.pool, source.token)) ? true : undefined),
        20_000,
      );
      const client = `client-${run}`;
      const text = `hello from ${client}`;
      const res = await fetch(`${app.url}/api/external/${client}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${source.token}` },
        body: JSON.stringify({ text }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      assert.equal(((await res.json()) as { text: string }).text, text);

      const copy = await waitFor(
        'the message in its topic',
        () =>
          tg
            .messagesIn(tg.supportChatId)
            .find(
              (m) => m.text === text && m.from?.id === tg.botInfo.id && m.message_thread_id !== undefined,
            ),
        20_000,
      );
      const manager = tg.addManager({ first_name: 'Mira' });
      const answer = `re ${client}`;
      const update = tg.groupMessage(manager, copy.message_thread_id!, { text: answer });
      const posted = await fetch(`${app.url}/webhooks/telegram`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET },
        body: JSON.stringify(update),
      });
      assert.equal(posted.status, 200, await posted.clone().text());

      const delivered = await waitFor(
        "the answer at the source's webhook",
        () =>
          receiver.at('/hook').find((r) => {
            const body = JSON.parse(r.body) as {
              event?: string;
              external_id?: string;
              message?: { text?: string };
            };
            return (
              body.event === 'message.created' && body.external_id === client && body.message?.text === answer
            );
          }),
        20_000,
      );
      assert.ok(delivered.ok);
    } catch (error) {
      console.error(`---- log of ${app.name} ----\n${app.logs(150)}`);
      throw error;
    }
  });
});
