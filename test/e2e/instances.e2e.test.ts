// Several instances: two app processes (`node --import tsx src/main.ts`, as `npm start` runs it) on
// one database, one Telegram stand-in and one source webhook receiver in this process. Both accept
// Telegram updates and API calls; each projection and reactor runs on one of them (a PostgreSQL
// advisory lock, told apart by each process's application_name in pg_stat_activity). The process
// that leads the Telegram reactor is SIGKILLed while traffic flows; the other must take every lock
// over within seconds, carry on from the checkpoints, and lose nothing: every accepted client
// message reaches its topic and every manager answer its client, with a duplicate only for what was
// in flight in the killed process (its outcome never recorded).
//
// With EVENT_STORE=esdb and EVENTSTORE_URL set (hosted CI's KurrentDB service, or a stand-in) the
// instances keep their event log there instead of in the database's td_events; the test reads the
// log through the same port either way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Message, User } from 'grammy/types';
import { createEsdbEventLog } from '../../src/adapters/eventstore/esdb-event-log.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { authenticate, createSource } from '../../src/adapters/sources/sources.ts';
import { type EventLog, type RecordedEvent, startOfLog } from '../../src/domain/event-log.ts';
import { allProjections } from '../../src/projections/index.ts';
import { lockKey } from '../../src/projections/runner.ts';
import { telegramStandInEnv } from '../support/app-env.ts';
import { waitFor } from '../support/app-harness.ts';
import { type AppProcess, startAppProcess, withApplicationName } from '../support/app-process.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  type StandInUser,
  startTelegramStandIn,
  type TelegramStandIn,
} from '../support/telegram-stand-in.ts';
import {
  RECEIVER_ALLOWANCE,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';

const WEBHOOK_SECRET = 'instances_secret_token';
/** The EventStoreDB node the instances use as their log, when the run names one. */
const esdbUrl = process.env.EVENT_STORE === 'esdb' ? process.env.EVENTSTORE_URL || undefined : undefined;
const TELEGRAM_CLIENTS = 14;
const EXTERNAL_CLIENTS = 6;
const ROUNDS = 6; // messages per client; from round 1 on a manager answers each
const KILL_ROUND = 3; // the round during which the leader is killed
/** The Telegram reactor's conversations at once (its default) and WEBHOOK_CONCURRENCY's default. */
const REACTOR_CONCURRENCY = 16;
const WEBHOOK_CONCURRENCY = 8;

/** Every advisory lock that makes something run on one instance only, by what it guards. */
const LOCKS: Record<string, string> = {
  ...Object.fromEntries(allProjections.map((p) => [`projection ${p.name}`, lockKey(p.name)])),
  'reactor telegram': 'topicdesk:reactor:telegram',
  'reactor webhooks': 'topicdesk:reactor:webhooks',
  'webhook scheduler': 'topicdesk:webhooks:scheduler',
};

interface Client {
  readonly index: number;
  /** Unique in topic titles and texts: Tg03, ext-02. */
  readonly label: string;
  readonly kind: 'telegram' | 'external';
  readonly user?: StandInUser;
  thread?: number;
}

interface Sent {
  readonly kind: 'client' | 'answer';
  readonly client: Client;
  readonly text: string;
  readonly via: string;
  readonly attempts: number;
}

interface Delivery {
  readonly deliveryId: string;
  readonly event: string;
  readonly externalId: string;
  readonly text: string;
  readonly at: number;
}

/** What the source's webhook receiver got: each POST's delivery id, event, client and text. */
const deliveriesOf = (receiver: WebhookReceiver): Delivery[] =>
  receiver.received.map((r) => {
    const body = JSON.parse(r.body) as { event: string; external_id: string; message: { text: string } };
    return {
      deliveryId: String(r.headers['x-topicdesk-delivery']),
      event: body.event,
      externalId: body.external_id,
      text: body.message.text,
      at: r.at,
    };
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('several instances on one database', () => {
  let db: TestDatabase;
  let tg: TelegramStandIn;
  let receiver: WebhookReceiver;
  let log: EventLog;
  const apps: AppProcess[] = [];

  before(async () => {
    db = await createTestDatabase({ migrate: false }); // the first app process migrates
    tg = await startTelegramStandIn();
    receiver = await startWebhookReceiver();
    log = esdbUrl
      ? createEsdbEventLog({ connectionString: esdbUrl })
      : createPgEventLog({ pool: db.pool, connectionString: db.url });
  });
  after(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await log?.close();
    await receiver?.close();
    await tg?.close();
    await db?.drop();
  });

  const startInstance = async (name: string) => {
    const app = await startAppProcess({
      name,
      env: {
        DATABASE_URL: withApplicationName(db.url, name),
        ...(esdbUrl ? { EVENT_STORE: 'esdb', EVENTSTORE_URL: esdbUrl } : {}),
        ...telegramStandInEnv(tg, WEBHOOK_SECRET),
        API_RATE_LIMIT_PER_MINUTE: '1000000',
        API_WRITE_WAIT_MS: '5000',
        WEBHOOK_TIMEOUT_MS: '5000',
        WEBHOOK_RETRY_INITIAL_MS: '200',
        WEBHOOK_RETRY_MAX_MS: '1000',
        WEBHOOK_ALLOW_PRIVATE: RECEIVER_ALLOWANCE,
        LOG_LEVEL: 'info',
      },
    });
    apps.push(app);
    return app;
  };

  /** Which process (application_name) holds each lock now, in this test's database. */
  const holders = async (): Promise<Map<string, string[]>> => {
    const { rows } = await db.pool.query<{ what: string; holder: string | null }>(
      `SELECT k.what, a.application_name AS holder
         FROM unnest($1::text[], $2::text[]) AS k(what, key)
         LEFT JOIN pg_locks l
           ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtext(k.key)::bigint
         LEFT JOIN pg_stat_activity a ON a.pid = l.pid`,
      [Object.keys(LOCKS), Object.values(LOCKS)],
    );
    const out = new Map<string, string[]>(Object.keys(LOCKS).map((k) => [k, []]));
    for (const r of rows) if (r.holder) out.get(r.what)!.push(r.holder);
    return out;
  };

  /** Every event in the log, through the port (td_events, or the EventStoreDB node). */
  const allEvents = async (): Promise<RecordedEvent[]> => {
    const out: RecordedEvent[] = [];
    for (;;) {
      const page = await log.readAll(out.at(-1)?.position ?? startOfLog, 5000);
      out.push(...page);
      if (page.length < 5000) return out;
    }
  };

  const counters = async () => {
    const { rows } = await db.pool.query<{ name: string; n: string }>(
      `SELECT 'projection ' || name AS name, events_applied AS n FROM td_projections WHERE status = 'active'
       UNION ALL SELECT 'reactor ' || name, events_handled FROM td_reactors`,
    );
    return new Map([...rows.map((r) => [r.name, Number(r.n)] as const), ['log', (await allEvents()).length]]);
  };

  it('both accept traffic; the survivor takes over every lock from the checkpoints after a SIGKILL', {
    timeout: 120_000,
  }, async () => {
    const t0 = Date.now();
    // ---- two instances: A starts first and leads everything, B stands by ----------------------------
    const a = await startInstance('topicdesk-a');
    await waitFor(
      'A leading every projection and reactor',
      async () =>
        [...(await holders()).values()].every((h) => h.length === 1 && h[0] === a.name) || undefined,
    );
    const source = await createSource(log, 'site', await receiver.hook('/hook'));
    const b = await startInstance('topicdesk-b');
    const started = Date.now() - t0;
    const killed = new Set<AppProcess>();
    try {
      await waitFor(
        'the source token accepted',
        async () => ((await authenticate(db.pool, source.token)) ? true : undefined),
        20_000,
      );
      const before = await holders();
      for (const [what, h] of before) assert.deepEqual(h, [a.name], `${what} runs on A only`);

      // ---- the clients, the manager and how requests reach the instances ----------------------------
      const clients: Client[] = [
        ...Array.from({ length: TELEGRAM_CLIENTS }, (_, i): Client => {
          const label = `Tg${String(i).padStart(2, '0')}`;
          return { index: i, label, kind: 'telegram', user: tg.addUser({ first_name: label }) };
        }),
        ...Array.from({ length: EXTERNAL_CLIENTS }, (_, i): Client => {
          const label = `ext-${String(i).padStart(2, '0')}`;
          return { index: TELEGRAM_CLIENTS + i, label, kind: 'external' };
        }),
      ];
      const manager: User = tg.addManager({ first_name: 'Mira' });
      const sent: Sent[] = [];
      let retried = 0;

      /**
       * POSTs to the instance `prefer` picks among the live ones; a refused connection (the instance
       * died) or a 5xx is retried on the next one, as Telegram and a source's client retry.
       */
      const post = async (prefer: number, path: string, body: unknown, headers: Record<string, string>) => {
        const deadline = Date.now() + 40_000;
        for (let attempt = 0; ; attempt++) {
          const live = apps.filter((x) => !killed.has(x) && x.isAlive());
          const app = live[(prefer + attempt) % live.length]!;
          let failure: string;
          try {
            const res = await fetch(`${app.url}${path}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...headers },
              body: JSON.stringify(body),
              signal: AbortSignal.timeout(20_000),
            });
            const text = await res.text();
            if (res.status >= 200 && res.status < 300)
              return {
                via: app.name,
                attempts: attempt + 1,
                body: JSON.parse(text) as Record<string, unknown>,
              };
            if (res.status < 500) assert.fail(`POST ${path} via ${app.name}: ${res.status} ${text}`);
            failure = `${res.status} ${text}`;
          } catch (error) {
            if (error instanceof assert.AssertionError) throw error;
            failure = String(error);
          }
          retried += 1;
          if (Date.now() > deadline) assert.fail(`POST ${path} never accepted: ${failure}`);
          await sleep(100);
        }
      };

      const clientWrites = async (c: Client, round: number) => {
        const text = `${c.label} says ${round}`;
        const prefer = c.index + round; // alternately A and B
        if (c.kind === 'telegram') {
          const r = await post(prefer, '/webhooks/telegram', tg.privateMessage(c.user!, { text }), {
            'x-telegram-bot-api-secret-token': WEBHOOK_SECRET,
          });
          assert.ok(['recorded', 'duplicate'].includes(String(r.body.outcome)), `${text}: ${r.body.outcome}`);
          sent.push({ kind: 'client', client: c, text, via: r.via, attempts: r.attempts });
        } else {
          const r = await post(
            prefer,
            `/api/external/${c.label}/messages`,
            { text },
            { authorization: `Bearer ${source.token}`, 'idempotency-key': `${c.label}-${round}` },
          );
          assert.equal(r.body.text, text);
          sent.push({ kind: 'client', client: c, text, via: r.via, attempts: r.attempts });
        }
      };

      const managerAnswers = async (c: Client, round: number) => {
        const text = `re ${c.label} #${round}`;
        const update = tg.groupMessage(manager, c.thread!, { text });
        const r = await post(c.index + round + 1, '/webhooks/telegram', update, {
          'x-telegram-bot-api-secret-token': WEBHOOK_SECRET,
        });
        assert.ok(['recorded', 'duplicate'].includes(String(r.body.outcome)), `${text}: ${r.body.outcome}`);
        sent.push({ kind: 'answer', client: c, text, via: r.via, attempts: r.attempts });
      };

      const round = (r: number) =>
        Promise.all(
          clients.map(async (c) => {
            await clientWrites(c, r);
            if (r > 0) await managerAnswers(c, r);
          }),
        );

      const topicCopies = (text: string) =>
        tg
          .messagesIn(tg.supportChatId)
          .filter(
            (m) => m.text === text && m.from?.id === tg.botInfo.id && m.message_thread_id !== undefined,
          );

      // ---- traffic through both, then the kill mid-traffic -----------------------------------------
      await round(0);
      await waitFor(
        'a topic for every client',
        () => {
          for (const c of clients)
            c.thread ??= tg.topics().find((t) => t.name.includes(c.label))?.message_thread_id;
          return clients.every((c) => c.thread !== undefined) || undefined;
        },
        30_000,
      );
      for (let r = 1; r < KILL_ROUND; r++) await round(r);
      const viaBeforeKill = new Map<string, number>();
      for (const s of sent) viaBeforeKill.set(s.via, (viaBeforeKill.get(s.via) ?? 0) + 1);
      assert.ok((viaBeforeKill.get(a.name) ?? 0) > 0 && (viaBeforeKill.get(b.name) ?? 0) > 0, 'both accept');

      const victimName = (await holders()).get('reactor telegram')![0]!;
      const victim = apps.find((x) => x.name === victimName)!;
      const survivor = victim === a ? b : a;
      const victimLocks = [...(await holders())].filter(([, h]) => h[0] === victimName).map(([w]) => w);

      const reactorCalls = () =>
        tg.calls.filter((c) => ['copyMessage', 'copyMessages', 'sendMessage'].includes(c.method)).length;
      const callsBefore = reactorCalls();
      const killRound = round(KILL_ROUND);
      // Kill while the reactor is at work on this round, so that something is in flight.
      await waitFor(
        'the reactor at work',
        () => reactorCalls() >= callsBefore + 3 || undefined,
        10_000,
      ).catch(() => undefined);
      killed.add(victim);
      const killedAt = Date.now();
      await victim.kill('SIGKILL');

      // ---- takeover: how long until the survivor holds each lock the victim held ---------------------
      const takeover = new Map<string, number>();
      const takeoverDeadline = killedAt + 30_000;
      while (takeover.size < victimLocks.length && Date.now() < takeoverDeadline) {
        const h = await holders();
        for (const what of victimLocks)
          if (!takeover.has(what) && h.get(what)?.[0] === survivor.name)
            takeover.set(what, Date.now() - killedAt);
        await sleep(20);
      }
      for (const what of victimLocks)
        assert.ok(takeover.has(what), `${survivor.name} took ${what} over within 30 s`);
      await killRound;
      const afterTakeover = await counters();
      for (let r = KILL_ROUND + 1; r < ROUNDS; r++) await round(r);

      // ---- everything arrives ------------------------------------------------------------------------
      const clientMessages = sent.filter((s) => s.kind === 'client');
      const answers = sent.filter((s) => s.kind === 'answer');
      const answerCopies = (s: Sent): number =>
        s.client.kind === 'telegram'
          ? tg.messagesIn(s.client.user!.id).filter((m) => m.text === s.text && m.from?.id === tg.botInfo.id)
              .length
          : new Set(
              deliveriesOf(receiver)
                .filter((d) => d.event === 'message.created' && d.text === s.text)
                .map((d) => d.deliveryId),
            ).size;
      await waitFor(
        'every client message in its topic and every answer with its client',
        () =>
          (clientMessages.every((s) => topicCopies(s.text).length > 0) &&
            answers.every((s) => answerCopies(s) > 0)) ||
          undefined,
        40_000,
      ).catch(() => undefined); // counted as lost below
      // Quiet: every projection and reactor has handled every event of the log.
      await waitFor(
        'projections and reactors at the head of the log',
        async () => {
          const c = await counters();
          const n = c.get('log')!;
          return [...c].every(([, v]) => v === n) || undefined;
        },
        40_000,
      ).catch(() => undefined); // asserted below with the numbers
      const final = await counters();
      const after = await holders();

      // ---- what arrived, counted -----------------------------------------------------------------
      const lost: string[] = [];
      const duplicated: { text: string; copies: number; firstAt: number; ids?: number[] }[] = [];
      const callAt = (chatId: number, messageId: number) =>
        tg.calls.find(
          (c) =>
            c.response?.ok &&
            Number(c.params.chat_id) === chatId &&
            ((c.response.result as Message | { message_id: number }).message_id === messageId ||
              (Array.isArray(c.response.result) &&
                (c.response.result as { message_id: number }[]).some((x) => x.message_id === messageId))),
        )?.at ?? Number.NaN;
      for (const s of clientMessages) {
        const copies = topicCopies(s.text);
        if (copies.length === 0) lost.push(s.text);
        for (const m of copies)
          assert.equal(m.message_thread_id, s.client.thread, `${s.text} in its own topic`);
        if (copies.length > 1)
          duplicated.push({
            text: s.text,
            copies: copies.length,
            firstAt: callAt(tg.supportChatId, copies[0]!.message_id),
            ids: copies.map((m) => m.message_id),
          });
      }
      for (const s of answers) {
        const n = answerCopies(s);
        if (n === 0) lost.push(s.text);
        if (n > 1 && s.client.kind === 'telegram') {
          const ids = tg
            .messagesIn(s.client.user!.id)
            .filter((m) => m.text === s.text && m.from?.id === tg.botInfo.id)
            .map((m) => m.message_id);
          duplicated.push({ text: s.text, copies: n, firstAt: callAt(s.client.user!.id, ids[0]!), ids });
        } else if (n > 1) {
          const firstAt = Math.min(
            ...deliveriesOf(receiver)
              .filter((d) => d.text === s.text)
              .map((d) => d.at),
          );
          duplicated.push({ text: s.text, copies: n, firstAt });
        }
      }
      // Webhook deliveries repeated under the same X-Topicdesk-Delivery (the receiver de-duplicates).
      const perDelivery = new Map<string, Delivery[]>();
      for (const d of deliveriesOf(receiver))
        perDelivery.set(d.deliveryId, [...(perDelivery.get(d.deliveryId) ?? []), d]);
      const redelivered = [...perDelivery.values()].filter((ds) => ds.length > 1);

      const { rows: modelRows } = await db.pool.query<{ text: string; n: number }>(
        'SELECT text, count(*)::int AS n FROM rm_messages GROUP BY text',
      );
      const inModel = new Map(modelRows.map((r) => [r.text, r.n]));
      type Data = {
        text?: string;
        messageId?: string;
        operation?: string;
        groupMessage?: { messageId?: number | string };
        channelMessage?: { messageId?: number | string };
      };
      const events = (await allEvents()).map((e) => ({ ...e, data: e.data as Data }));
      const recorded = events.filter((e) => ['ClientMessageReceived', 'ManagerReplied'].includes(e.type));
      const logged: { type: string; text: string; n: number }[] = [];
      for (const e of recorded) {
        const row = logged.find((l) => l.type === e.type && l.text === e.data.text);
        if (row) row.n++;
        else logged.push({ type: e.type, text: e.data.text ?? '', n: 1 });
      }

      // The outcome each message's delivery recorded: the topic copy, or the client's copy (none for a
      // webhook), one event per message.
      const outcomeOf = new Map<string, { n: number; ref: string | null }>();
      for (const r of recorded) {
        const found = events.filter(
          (o) =>
            o.stream === r.stream &&
            r.data.messageId !== undefined &&
            o.data.messageId === r.data.messageId &&
            (o.type === 'ClientMessageForwarded' ||
              (o.type === 'ReplyDelivered' && o.data.operation === 'send')),
        );
        if (found.length === 0) continue;
        const refs = found
          .map((o) => o.data.groupMessage?.messageId ?? o.data.channelMessage?.messageId)
          .filter((x) => x !== undefined)
          .map(String)
          .sort();
        const text = r.data.text ?? '';
        const before = outcomeOf.get(text);
        outcomeOf.set(text, {
          n: (before?.n ?? 0) + found.length,
          ref:
            [before?.ref ?? null, refs.at(-1) ?? null]
              .filter((x) => x !== null)
              .sort()
              .at(-1) ?? null,
        });
      }

      const takeoverMs = Math.max(...takeover.values());
      const acceptedBy = (name: string) => sent.filter((s) => s.via === name).length;
      const summary =
        `instances: sent ${sent.length} (client ${clientMessages.length}, answers ${answers.length}) / ` +
        `accepted ${sent.length} (${a.name} ${acceptedBy(a.name)}, ${b.name} ${acceptedBy(b.name)}; ` +
        `retried ${retried}) / delivered ${sent.length - lost.length} / ` +
        `duplicated ${duplicated.length} / lost ${lost.length}; webhook redeliveries ${redelivered.length}; ` +
        `takeover after SIGKILL of ${victim.name}: max ${takeoverMs} ms ` +
        `(${[...takeover].map(([w, ms]) => `${w} ${ms} ms`).join(', ')}); ` +
        `start-up ${started} ms, total ${Date.now() - t0} ms`;
      console.log(summary);
      if (duplicated.length > 0)
        console.log(
          `duplicates: ${duplicated.map((d) => `${d.text} ×${d.copies} (first copy ${d.firstAt - killedAt} ms from the kill)`).join('; ')}`,
        );

      // ---- assertions ----------------------------------------------------------------------------
      assert.deepEqual(lost, [], 'nothing accepted is lost');
      for (const [what, h] of after) assert.deepEqual(h, [survivor.name], `${what} runs on the survivor`);
      assert.ok(takeoverMs < 10_000, `every lock taken over within seconds (${takeoverMs} ms)`);
      // Each duplicate is a call the killed process made and never recorded the outcome of: made
      // before it died (give its last request on the wire two seconds to arrive).
      for (const d of duplicated) {
        assert.equal(d.copies, 2, `${d.text}: one duplicate at most`);
        assert.ok(d.firstAt <= killedAt + 2000, `${d.text}: the first copy was in flight at the kill`);
        // The killed process made the first copy and died before recording it: the outcome in the
        // log is the survivor's copy.
        if (d.ids)
          assert.equal(
            outcomeOf.get(d.text)?.ref,
            String(d.ids.at(-1)),
            `${d.text}: the later copy recorded`,
          );
      }
      // One call in flight per conversation and lock holder: the Telegram reactor works on up to
      // REACTOR_CONCURRENCY conversations at once (each in order), the webhook scheduler on up to
      // WEBHOOK_CONCURRENCY deliveries (one per conversation).
      const inFlight = new Set(
        duplicated.map((d) => {
          const s = sent.find((x) => x.text === d.text)!;
          return `${s.client.label}/${s.kind === 'answer' && s.client.kind === 'external' ? 'webhooks' : 'telegram'}`;
        }),
      );
      assert.equal(
        inFlight.size,
        duplicated.length,
        'at most one duplicate per conversation and lock holder',
      );
      assert.ok(
        duplicated.length <= REACTOR_CONCURRENCY + WEBHOOK_CONCURRENCY,
        'no more than could be in flight',
      );
      for (const ds of redelivered) {
        assert.equal(ds.length, 2, `delivery ${ds[0]!.deliveryId} repeated once at most`);
        assert.ok(ds[0]!.at <= killedAt + 2000, `delivery ${ds[0]!.deliveryId} was in flight at the kill`);
      }
      // Recorded once each, read model complete.
      for (const s of sent) {
        const type = s.kind === 'client' ? 'ClientMessageReceived' : 'ManagerReplied';
        assert.equal(
          logged.find((l) => l.type === type && l.text === s.text)?.n,
          1,
          `${s.text} recorded once`,
        );
        assert.equal(inModel.get(s.text), 1, `${s.text} in rm_messages once`);
        assert.equal(outcomeOf.get(s.text)?.n, 1, `${s.text}: its delivery recorded once`);
      }
      // Checkpoints moved on after the takeover, and every projection and reactor applied every event
      // exactly once: the survivor went on from the checkpoint, neither from zero nor past a gap.
      const total = final.get('log')!;
      for (const [name, n] of final) {
        if (name === 'log') continue;
        assert.ok(n > (afterTakeover.get(name) ?? 0), `${name} moved on after the takeover`);
        assert.equal(n, total, `${name} handled each of the ${total} events once`);
      }
      assert.equal(victim.isAlive(), false);
      assert.equal(survivor.isAlive(), true);
      if (process.env.TEST_SHOW_LOGS) for (const app of apps) console.log(app.logs(5000));
    } catch (error) {
      for (const app of apps) console.error(`---- log of ${app.name} ----\n${app.logs(150)}`);
      throw error;
    }
  });
});
