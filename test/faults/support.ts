// The fault suite's shared pieces: its knobs (FAULTS_*), the one summary line each scenario prints,
// a sender that retries like Telegram does, a traffic generator (Telegram clients writing to the bot
// and a manager answering each of them in their topic) and the tally of what arrived where.
import { appendFileSync } from 'node:fs';
import type { Message, Update, User } from 'grammy/types';
import type pg from 'pg';
import type { StandInUser, TelegramStandIn } from '../support/telegram-stand-in.ts';

export { freePort } from '../../src/adapters/postgres/embedded.ts';

// ---- knobs ---------------------------------------------------------------------------------------

const envNumber = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number (got "${raw}")`);
  return n;
};

/** How long each Telegram outage lasts (429s, 500s, no answers). `npm run test:faults`: 60 s. */
export const OUTAGE_MS = envNumber('FAULTS_OUTAGE_MS', 60_000);
/** How long PostgreSQL stays stopped. */
export const DB_OUTAGE_MS = envNumber('FAULTS_DB_OUTAGE_MS', 15_000);
/** Messages of the SIGKILL scenario, both directions together. */
export const KILL_MESSAGES = envNumber('FAULTS_MESSAGES', 1000);
/** SIGKILLs while they flow. */
export const KILLS = envNumber('FAULTS_KILLS', 3);
/** Random payloads per property of the malformed-input scenario. */
export const FUZZ_RUNS = envNumber('FAULTS_FUZZ_RUNS', 300);
/** Clients per source of the webhook-outage scenario (each gets three answers). */
export const WEBHOOK_CLIENTS = envNumber('FAULTS_WEBHOOK_CLIENTS', 10);

/**
 * The short run (`npm test`, `npm run test:faults -- --fast`): 5 s outages, half the messages, fewer
 * payloads and webhook clients. Variables set in the environment win.
 */
export const FAST_ENV: Readonly<Record<string, string>> = {
  FAULTS_OUTAGE_MS: '5000',
  FAULTS_DB_OUTAGE_MS: '5000',
  FAULTS_MESSAGES: '500',
  FAULTS_FUZZ_RUNS: '100',
  FAULTS_WEBHOOK_CLIENTS: '4',
};

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A TCP port free on 127.0.0.1 now. */

// ---- the summary line ----------------------------------------------------------------------------

export interface Tally {
  readonly sent: number;
  readonly accepted: number;
  readonly delivered: number;
  readonly duplicated: number;
  readonly lost: number;
}

/**
 * Prints `scenario: sent N / accepted N / delivered N / duplicated N / lost N` (and what follows the
 * semicolon), and appends it to FAULTS_SUMMARY_FILE when set, so that the runner can repeat every
 * scenario's line at the end of the run.
 */
export const report = (scenario: string, t: Tally, extra = ''): string => {
  const line =
    `${scenario}: sent ${t.sent} / accepted ${t.accepted} / delivered ${t.delivered} / ` +
    `duplicated ${t.duplicated} / lost ${t.lost}${extra ? `; ${extra}` : ''}`;
  console.log(line);
  if (process.env.FAULTS_SUMMARY_FILE) appendFileSync(process.env.FAULTS_SUMMARY_FILE, `${line}\n`);
  return line;
};

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

// ---- a sender that retries like Telegram ---------------------------------------------------------

export interface Posted {
  /** 2xx in the end. */
  readonly accepted: boolean;
  /** The last status answered (0: no answer, the connection failed). */
  readonly status: number;
  readonly body: string;
  readonly attempts: number;
}

export interface PostOptions {
  readonly headers?: Record<string, string>;
  /** Give up after this long (a 4xx gives up at once). Default 5 min. */
  readonly deadlineMs?: number;
}

/**
 * POSTs `body` (JSON) to `url() + path` until it is answered 2xx, as Telegram and VK deliver webhooks:
 * a refused connection, no answer, a 5xx or a 429 is tried again (after 0.1 s, growing to 2 s), the
 * same payload each time; a 4xx is final. `url()` is undefined while the app is down.
 */
export const postUntilAccepted = async (
  url: () => string | undefined,
  path: string,
  body: unknown,
  options: PostOptions = {},
): Promise<Posted> => {
  const deadline = Date.now() + (options.deadlineMs ?? 300_000);
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  let status = 0;
  let text = '';
  for (let attempt = 1; ; attempt++) {
    const base = url();
    if (base) {
      try {
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...options.headers },
          body: payload,
          signal: AbortSignal.timeout(30_000),
        });
        status = res.status;
        text = await res.text();
        if (status >= 200 && status < 300) return { accepted: true, status, body: text, attempts: attempt };
        if (status < 500 && status !== 429) return { accepted: false, status, body: text, attempts: attempt };
      } catch {
        status = 0;
      }
    }
    if (Date.now() > deadline) return { accepted: false, status, body: text, attempts: attempt };
    await sleep(Math.min(2000, 100 * attempt));
  }
};

// ---- the log and the read models ---------------------------------------------------------------

/** Events in the log, and how many each projection and reactor has handled. */
export const counters = async (pool: pg.Pool): Promise<Map<string, number>> => {
  const { rows } = await pool.query<{ name: string; n: string }>(
    `SELECT 'projection ' || name AS name, events_applied AS n FROM td_projections WHERE status = 'active'
     UNION ALL SELECT 'reactor ' || name, events_handled FROM td_reactors
     UNION ALL SELECT 'log', count(*) FROM td_events`,
  );
  return new Map(rows.map((r) => [r.name, Number(r.n)]));
};

/** Waits until every projection and reactor has handled every event of the log; what lags, if not. */
export const settled = async (pool: pg.Pool, timeoutMs = 60_000): Promise<string[]> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await counters(pool).catch(() => undefined);
    const head = c?.get('log');
    const lagging = c
      ? [...c].filter(([name, n]) => name !== 'log' && n !== head).map(([name, n]) => `${name} ${n}/${head}`)
      : ['(the database did not answer)'];
    if (lagging.length === 0 || Date.now() > deadline) return lagging;
    await sleep(100);
  }
};

/** How many times each text was recorded as a client message and as a manager's answer. */
export const recordedTexts = async (pool: pg.Pool): Promise<Map<string, number>> => {
  const { rows } = await pool.query<{ text: string; n: number }>(
    `SELECT data->>'text' AS text, count(*)::int AS n FROM td_events
      WHERE type IN ('ClientMessageReceived', 'ManagerReplied') GROUP BY 1`,
  );
  return new Map(rows.map((r) => [r.text, r.n]));
};

// ---- Telegram traffic ------------------------------------------------------------------------------

export const REACTOR_CONCURRENCY = 16; // the Telegram reactor's conversations at once (its default)

export interface Conversation {
  readonly label: string;
  readonly user: StandInUser;
  thread?: number;
}

export interface Sent {
  readonly kind: 'client' | 'answer';
  readonly conversation: Conversation;
  readonly text: string;
  readonly accepted: boolean;
  readonly attempts: number;
  /** When it was first posted and when it was accepted. */
  readonly postedAt: number;
  readonly acceptedAt: number;
}

export interface Copy {
  readonly message: Message;
  /** When the Bot API call that made it arrived at the stand-in. */
  readonly at: number;
}

export interface TrafficTally extends Tally {
  /** Accepted texts with more than one copy, and the copies. */
  readonly duplicates: { sent: Sent; copies: Copy[] }[];
  readonly lostTexts: string[];
  /** Conversations whose copies are not in the order the messages were accepted (repeats aside). */
  readonly outOfOrder: string[];
  /** Copies in a topic other than the conversation's. */
  readonly misplaced: string[];
  /** Requests answered with something other than 2xx before they were accepted. */
  readonly retried: number;
}

export interface TrafficOptions {
  readonly tg: TelegramStandIn;
  /** Where the app answers now; undefined while it is down (senders wait and retry). */
  readonly url: () => string | undefined;
  /** X-Telegram-Bot-Api-Secret-Token. */
  readonly secret: string;
  /** Unique in topic titles and texts of this run, e.g. K (→ K03 m4, re K03 #4). */
  readonly prefix: string;
  readonly clients: number;
}

const TEXT = /^(?<label>[A-Za-z]+\d+) m\d+$|^re (?<answered>[A-Za-z]+\d+) #\d+$/;

/**
 * Telegram clients writing to the bot through /webhooks/telegram, and a manager answering each
 * client message in the client's topic. Each client writes, then the manager answers, then the client
 * writes again: one request of each conversation at a time, the conversations side by side.
 */
export const telegramTraffic = (options: TrafficOptions) => {
  const { tg, prefix } = options;
  const manager: User = tg.addManager({ first_name: `${prefix} manager` });
  const conversations: Conversation[] = Array.from({ length: options.clients }, (_, i) => {
    const label = `${prefix}${String(i).padStart(2, '0')}`;
    return { label, user: tg.addUser({ first_name: label }) };
  });
  const sent: Sent[] = [];
  const headers = { 'x-telegram-bot-api-secret-token': options.secret };

  const post = async (kind: Sent['kind'], conversation: Conversation, text: string, update: Update) => {
    const postedAt = Date.now();
    const r = await postUntilAccepted(options.url, '/webhooks/telegram', update, { headers });
    sent.push({
      kind,
      conversation,
      text,
      accepted: r.accepted,
      attempts: r.attempts,
      postedAt,
      acceptedAt: Date.now(),
    });
    if (!r.accepted) console.error(`${text}: not accepted (${r.status} ${r.body})`);
  };

  const topicOf = async (c: Conversation, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    while (c.thread === undefined) {
      c.thread = tg.topics().find((t) => !t.deleted && t.name.startsWith(`${c.label} ·`))?.message_thread_id;
      if (c.thread !== undefined) break;
      if (Date.now() > deadline) throw new Error(`no topic for ${c.label} within ${timeoutMs} ms`);
      await sleep(50);
    }
    return c.thread;
  };

  const clientWrites = (c: Conversation, round: number) => {
    const text = `${c.label} m${round}`;
    return post('client', c, text, tg.privateMessage(c.user, { text }));
  };
  const managerAnswers = async (c: Conversation, round: number) => {
    const text = `re ${c.label} #${round}`;
    return post('answer', c, text, tg.groupMessage(manager, await topicOf(c), { text }));
  };

  /** Indexes what is in the support group and the clients' chats, by text. */
  const copies = () => {
    const at = new Map<string, number>(); // "chat:message" → when the call that made it arrived
    for (const call of tg.calls) {
      if (!call.response?.ok) continue;
      const result = call.response.result as { message_id?: number } | { message_id: number }[];
      for (const r of Array.isArray(result) ? result : [result])
        if (r && typeof r.message_id === 'number') at.set(`${call.params.chat_id}:${r.message_id}`, call.at);
    }
    const byText = new Map<string, Copy[]>();
    const add = (m: Message) => {
      const text = m.text ?? '';
      if (!TEXT.test(text) || m.from?.id !== tg.botInfo.id) return;
      const list = byText.get(text) ?? [];
      list.push({ message: m, at: at.get(`${m.chat.id}:${m.message_id}`) ?? Number.NaN });
      byText.set(text, list);
    };
    for (const m of tg.messagesIn(tg.supportChatId)) add(m);
    for (const c of conversations) for (const m of tg.messagesIn(c.user.id)) add(m);
    return byText;
  };

  const tally = (): TrafficTally => {
    const byText = copies();
    const accepted = sent.filter((s) => s.accepted);
    const lostTexts: string[] = [];
    const duplicates: TrafficTally['duplicates'] = [];
    const misplaced: string[] = [];
    for (const s of accepted) {
      const found = byText.get(s.text) ?? [];
      if (found.length === 0) lostTexts.push(s.text);
      if (found.length > 1) duplicates.push({ sent: s, copies: found });
      for (const f of found)
        if (s.kind === 'client' && f.message.message_thread_id !== s.conversation.thread)
          misplaced.push(`${s.text} in topic ${f.message.message_thread_id}`);
    }
    // In order: the copies of each conversation, a repeat allowed only right after its original.
    const outOfOrder: string[] = [];
    for (const c of conversations) {
      for (const kind of ['client', 'answer'] as const) {
        const want = accepted.filter((s) => s.conversation === c && s.kind === kind).map((s) => s.text);
        const wanted = new Set(want);
        const chat = kind === 'client' ? tg.supportChatId : c.user.id;
        const got = [...byText.values()]
          .flat()
          .filter((x) => x.message.chat.id === chat && wanted.has(x.message.text ?? ''))
          .sort((a, b) => a.message.message_id - b.message.message_id)
          .map((x) => x.message.text ?? '')
          .filter((t, i, all) => t !== all[i - 1]);
        if (got.length === want.length && got.some((t, i) => t !== want[i]))
          outOfOrder.push(`${c.label} ${kind}: ${got.join(', ')}`);
      }
    }
    return {
      sent: sent.length,
      accepted: accepted.length,
      delivered: accepted.length - lostTexts.length,
      duplicated: duplicates.length,
      lost: lostTexts.length,
      duplicates,
      lostTexts,
      outOfOrder,
      misplaced,
      retried: sent.filter((s) => s.attempts > 1).length,
    };
  };

  return {
    conversations,
    sent,
    manager,
    /** Every client writes once and gets a topic. */
    async warmUp() {
      await Promise.all(conversations.map((c) => clientWrites(c, 0)));
      await Promise.all(conversations.map((c) => topicOf(c)));
    },
    /**
     * `rounds` rounds of a client message and the manager's answer per conversation, each conversation
     * pausing `pauseMs` between rounds (to spread the traffic over a period), until `stop()` says so.
     */
    async run(rounds: number, pauseMs = 0, stop: () => boolean = () => false) {
      await Promise.all(
        conversations.map(async (c, i) => {
          await sleep((pauseMs * i) / conversations.length); // staggered
          for (let r = 1; r <= rounds && !stop(); r++) {
            await clientWrites(c, r);
            await managerAnswers(c, r);
            if (pauseMs > 0) await sleep(pauseMs);
          }
        }),
      );
    },
    tally,
    /** Waits until every accepted message has arrived (or the time is up) and returns the tally. */
    async arrived(timeoutMs = 120_000): Promise<TrafficTally> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const t = tally();
        if (t.lost === 0 || Date.now() > deadline) return t;
        await sleep(250);
      }
    },
  };
};
