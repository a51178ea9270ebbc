// Outgoing Telegram calls, paced and retried (docs/design.md, "The outgoing Telegram limiter").
// Installed as a grammY API transformer (`bot.api.config.use(limiter.transformer)`), so every call
// the app makes goes through it.
//
// Telegram's Bot FAQ: about one message a second to one chat, 20 a minute to one group, about 30 a
// second in all; beyond that it answers 429 with `retry_after`. We pace below those numbers rather
// than collect 429s, and retry what fails for reasons of the moment (429, 5xx, the network) until
// the call goes through or the limiter is stopped: nothing is dropped. Calls to one chat run one at
// a time in arrival order, so a retry can never let a later message overtake an earlier one.
//
// A retry after a lost answer (connection reset after Telegram acted) may repeat that one send: a
// repeat is accepted, a loss is not (docs/design.md, "At least once").
import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { Transformer } from 'grammy';
import { answerFailure, telegramFailure } from './errors.ts';

export interface RetryInfo {
  method: string;
  chatId?: string;
  reason: '429' | '5xx' | 'network';
  waitMs: number;
  attempt: number;
}

export interface OutgoingLimiterOptions {
  /** Messages a second to one chat (Telegram: about 1). */
  perChatPerSecond?: number;
  /** Messages per window to one group (Telegram: 20 a minute). */
  groupPerMinute?: number;
  /** The group window's length; 60 s unless a test shortens it. */
  groupWindowMs?: number;
  /** Messages a second in all (Telegram: about 30). */
  globalPerSecond?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  onRetry?: (info: RetryInfo) => void;
  /** Whether a chat is a group (the per-minute window applies); default: negative ids. */
  isGroup?: (chatId: string) => boolean;
}

export interface OutgoingLimiter {
  transformer: Transformer;
  /** Paced calls inside the limiter: waiting for their turn, in flight or between retries. */
  pending(): number;
  /**
   * Resolves when a call of low priority (a topic's status edit) may go to `chatId` without holding
   * up any other: nothing of the chat's is queued or in flight, the chat's spacing has passed, and
   * its group window keeps a reserve free for what comes next (docs/design.md, "The limiter's
   * priorities"). Rejects with LimiterStoppedError when the limiter stops, or when `signal` aborts.
   */
  whenQuiet(chatId: string, signal?: AbortSignal): Promise<void>;
  /** Calls still waiting reject with LimiterStoppedError; calls in flight finish as they do. */
  stop(): void;
}

/** The call did not complete because the limiter stopped; retry it later from the checkpoint. */
export class LimiterStoppedError extends Error {
  constructor(method: string) {
    super(`telegram limiter stopped before '${method}' completed; the call was not made or not confirmed`);
    this.name = 'LimiterStoppedError';
  }
}

// Calls that post, change or remove messages (and forum topics, which post service messages), and
// the reaction that marks a note: everything the bot writes into a chat shares its budget.
// Everything else (getMe, getFile, getChat, getUpdates, setWebhook, ...) is passed through untouched:
// it is not what the flood limits count, and the polling loop and CLI commands handle their own errors.
// sendChatAction is left out: a typing indicator is not a message and must not queue behind them.
const PACED =
  /^(send(?!ChatAction$)\w+|copyMessages?|forwardMessages?|editMessage\w+|deleteMessages?|stopPoll|setMessageReaction|(create|edit|close|reopen|delete)ForumTopic)$/;

// How many messages a call produces: an album of n or a batch copy of n counts n against the limits.
const costOf = (method: string, payload: Record<string, unknown>): number => {
  const list = method === 'sendMediaGroup' ? payload.media : payload.message_ids;
  return Array.isArray(list) && method !== 'deleteMessages' ? Math.max(1, list.length) : 1;
};

// Time until `cost` more stamps fit in a sliding window of `limit` per `span` (stamps are sorted; old
// ones are dropped). A call costing more than the whole window goes once the window is empty, so it
// cannot wait forever.
const windowWait = (stamps: number[], limit: number, span: number, cost: number, t: number): number => {
  while (stamps.length > 0 && stamps[0]! <= t - span) stamps.shift();
  const excess = stamps.length + cost - limit;
  if (excess <= 0 || stamps.length === 0) return 0;
  return stamps[Math.min(excess, stamps.length) - 1]! + span - t;
};

/** The caller's signal: grammY's own is a polyfill, not Node's AbortSignal. */
interface CallerSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export const createOutgoingLimiter = (options: OutgoingLimiterOptions = {}): OutgoingLimiter => {
  const perChatMs = 1000 / (options.perChatPerSecond ?? 1);
  const groupLimit = options.groupPerMinute ?? 20;
  const groupWindowMs = options.groupWindowMs ?? 60_000;
  const globalLimit = options.globalPerSecond ?? 30;
  const baseBackoffMs = options.baseBackoffMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const sleep = options.sleep ?? ((ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal }));
  const now = options.now ?? Date.now;
  const isGroup = options.isGroup ?? ((chatId: string) => chatId.startsWith('-'));

  const stopping = new AbortController();
  // Every queued call listens for stop(); a burst queues far more than Node's default warning of 10.
  setMaxListeners(0, stopping.signal);
  let inside = 0;
  /** Per chat: when its next message may go (spacing, or a 429's retry_after). */
  const chatFreeAt = new Map<string, number>();
  /** Per group: send times within the window. */
  const groupStamps = new Map<string, number[]>();
  const globalStamps: number[] = [];
  /** Until when everything waits (a flood not tied to one chat). */
  let globalHoldUntil = 0;
  /** The last 429 to a chat: a second chat refused while the first is still held means a global flood. */
  let lastFlood: { chat: string; until: number } | undefined;
  /** Per chat: the tail of its queue; each call waits for the one before it to finish. */
  const tails = new Map<string, Promise<void>>();
  /** Per chat: low-priority callers waiting for its queue to empty. */
  const quietWaiters = new Map<string, Set<() => void>>();
  /** Slots of a group's window that low-priority calls leave free: a quarter of it, at least one. */
  const reserve = Math.max(1, Math.ceil(groupLimit / 4));

  // Runs a wait that ends early, with an error, when the limiter stops or the caller aborts. The
  // caller's signal may be grammY's polyfilled AbortSignal, so it is listened to, not combined.
  const interruptible = <T>(
    method: string,
    signal: CallerSignal | undefined,
    wait: (abort: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    const reason = () =>
      stopping.signal.aborted
        ? new LimiterStoppedError(method)
        : (signal?.reason ?? new Error(`call to '${method}' aborted`));
    if (stopping.signal.aborted || signal?.aborted) return Promise.reject(reason());
    const local = new AbortController();
    const abort = () => local.abort();
    stopping.signal.addEventListener('abort', abort);
    signal?.addEventListener('abort', abort);
    return new Promise<T>((resolve, reject) => {
      local.signal.addEventListener('abort', () => reject(reason()));
      wait(local.signal).then(resolve, (e: unknown) => reject(local.signal.aborted ? reason() : e));
    }).finally(() => {
      stopping.signal.removeEventListener('abort', abort);
      signal?.removeEventListener('abort', abort);
    });
  };
  const pause = (method: string, ms: number, signal: CallerSignal | undefined) =>
    interruptible(method, signal, (abort) => sleep(ms, abort));

  // Old entries are dropped now and then, so a bot that talked to many chats does not keep them all.
  const forgetIdleChats = (t: number) => {
    if (chatFreeAt.size < 10_000) return;
    for (const [chat, at] of chatFreeAt) if (at < t && !tails.has(chat)) chatFreeAt.delete(chat);
    for (const [chat, stamps] of groupStamps)
      if ((stamps.at(-1) ?? 0) <= t - groupWindowMs) groupStamps.delete(chat);
  };

  // Waits until every limit has room for this call, then takes it (synchronously, so no other call
  // can take the same room between the check and the take).
  const takeTurn = async (method: string, chat: string | undefined, cost: number, signal?: CallerSignal) => {
    for (;;) {
      if (stopping.signal.aborted) throw new LimiterStoppedError(method);
      const t = now();
      let stamps: number[] | undefined;
      if (chat !== undefined && isGroup(chat)) {
        stamps = groupStamps.get(chat) ?? [];
        groupStamps.set(chat, stamps);
      }
      const wait = Math.max(
        globalHoldUntil - t,
        chat === undefined ? 0 : (chatFreeAt.get(chat) ?? 0) - t,
        stamps ? windowWait(stamps, groupLimit, groupWindowMs, cost, t) : 0,
        windowWait(globalStamps, globalLimit, 1000, cost, t),
      );
      if (wait <= 0) {
        forgetIdleChats(t);
        if (chat !== undefined) chatFreeAt.set(chat, t + cost * perChatMs);
        for (let i = 0; i < cost; i++) {
          stamps?.push(t);
          globalStamps.push(t);
        }
        return;
      }
      await pause(method, wait, signal);
    }
  };

  // Runs `fn` after every earlier call to the same chat has finished (FIFO per chat).
  const inChatOrder = async <T>(
    method: string,
    chat: string | undefined,
    signal: CallerSignal | undefined,
    fn: () => Promise<T>,
  ): Promise<T> => {
    if (chat === undefined) return fn();
    const before = tails.get(chat) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    // The next call waits for this one and, through it, for all before it, even if this one gives up
    // early: leaving the queue must not let a later call overtake an earlier one still in flight.
    const tail = before.then(() => mine);
    tails.set(chat, tail);
    try {
      await interruptible(method, signal, () => before);
      return await fn();
    } finally {
      done();
      if (tails.get(chat) === tail) {
        tails.delete(chat);
        const waiters = quietWaiters.get(chat);
        quietWaiters.delete(chat);
        for (const wake of waiters ?? []) wake();
      }
    }
  };

  const whenQuiet = async (chat: string, signal?: AbortSignal): Promise<void> => {
    const method = 'low-priority call';
    for (;;) {
      if (stopping.signal.aborted) throw new LimiterStoppedError(method);
      if (tails.has(chat)) {
        // Woken when the chat's queue empties; a stop or an abort ends the wait.
        await interruptible(
          method,
          signal,
          () =>
            new Promise<void>((resolve) => {
              const waiters = quietWaiters.get(chat) ?? new Set();
              waiters.add(resolve);
              quietWaiters.set(chat, waiters);
            }),
        );
        continue;
      }
      const t = now();
      const stamps = isGroup(chat) ? (groupStamps.get(chat) ?? []) : undefined;
      const wait = Math.max(
        (chatFreeAt.get(chat) ?? 0) - t,
        globalHoldUntil - t,
        stamps ? windowWait(stamps, groupLimit - reserve, groupWindowMs, 1, t) : 0,
      );
      if (wait <= 0) return;
      await pause(method, wait, signal);
    }
  };

  const transformer: Transformer = async (prev, method, payload, signal) => {
    if (!PACED.test(method)) return prev(method, payload, signal);
    if (stopping.signal.aborted) throw new LimiterStoppedError(method);
    const params = (payload ?? {}) as Record<string, unknown>;
    const chat = params.chat_id === undefined ? undefined : String(params.chat_id);
    const cost = costOf(method, params);
    const retry = (reason: RetryInfo['reason'], waitMs: number, attempt: number) => {
      options.onRetry?.({ method, ...(chat === undefined ? {} : { chatId: chat }), reason, waitMs, attempt });
    };

    inside++;
    try {
      return await inChatOrder(method, chat, signal, async () => {
        let failures = 0; // consecutive 5xx / network failures, for the backoff's exponent
        for (let attempt = 1; ; attempt++) {
          await takeTurn(method, chat, cost, signal);
          let backoff: RetryInfo['reason'];
          try {
            const res = await prev(method, payload, signal);
            if (res.ok) return res;
            const failure = answerFailure(res);
            if (failure.kind === 'rate-limited') {
              // Telegram says how long to keep quiet, not why. Hold back this chat for that long; hold
              // back everything when the call named no chat, or when another chat is refused while an
              // earlier chat's hold still runs (the bot as a whole is flooding). takeTurn then waits.
              const waitMs = failure.retryAfterMs!;
              const t = now();
              const until = t + waitMs;
              const global =
                chat === undefined || (lastFlood && lastFlood.chat !== chat && lastFlood.until > t);
              if (global) globalHoldUntil = Math.max(globalHoldUntil, until);
              if (chat !== undefined) {
                chatFreeAt.set(chat, Math.max(chatFreeAt.get(chat) ?? 0, until));
                lastFlood = { chat, until };
              }
              failures = 0;
              retry('429', waitMs, attempt);
              continue;
            }
            // Any other 4xx is the caller's to judge (grammY makes it a GrammyError): returned as is.
            if (!failure.retry) return res;
            backoff = '5xx';
          } catch (e) {
            // A reset connection, a timeout, a 502 page that is not JSON: grammY throws HttpError.
            // A local upload that cannot be read fails the same way every time: not retried.
            if (telegramFailure(e)?.kind !== 'network' || signal?.aborted) throw e;
            backoff = 'network';
          }
          // Exponential backoff with jitter (half fixed, half random), so that many callers failing
          // together do not all come back at the same moment.
          const ceiling = Math.min(maxBackoffMs, baseBackoffMs * 2 ** failures++);
          const waitMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
          retry(backoff, waitMs, attempt);
          await pause(method, waitMs, signal);
        }
      });
    } finally {
      inside--;
    }
  };

  return {
    transformer,
    pending: () => inside,
    whenQuiet,
    stop: () => stopping.abort(),
  };
};
