// The Bots Long Poll loop (VK_MODE=longpoll): asks VK for the updates after a `ts`, records each one,
// and only then moves past it. The `ts` is kept in PostgreSQL, so updates VK took while the app was
// stopped (a deploy, a crash) are fetched when it starts again (docs/design.md, "VK Bots Long Poll").
import type { Logger } from 'pino';
import type { VK } from 'vk-io';
import type { VkEvent } from './inbound.ts';

/** Where the loop has got to, kept across restarts (one row per community). */
export interface LongPollPosition {
  /** The `ts` after the last update recorded, or undefined on the first start. */
  load(): Promise<string | undefined>;
  save(ts: string): Promise<void>;
}

export interface LongPollContext {
  readonly api: VK['api'];
  readonly groupId: number;
  readonly position: LongPollPosition;
  /** Records one update (retrying until it is); false once the loop is stopping. */
  readonly record: (update: VkEvent) => Promise<boolean>;
  readonly signal: AbortSignal;
  /** Waits after a failure, ended early by the signal. */
  readonly pause: () => Promise<void>;
  readonly logger: Logger;
}

interface LongPollServer {
  readonly key: string;
  readonly server: string;
  ts: string;
}

interface CheckAnswer {
  readonly ts?: string | number;
  readonly updates?: VkEvent[];
  readonly failed?: number;
}

const serverOf = async (ctx: LongPollContext, ts?: string): Promise<LongPollServer> => {
  const fresh = (await ctx.api.groups.getLongPollServer({ group_id: ctx.groupId })) as LongPollServer;
  return { key: fresh.key, server: fresh.server, ts: ts ?? String(fresh.ts) };
};

/**
 * The first server: VK's key, and the kept `ts` when there is one (VK's own `ts` is "from now on").
 * On the very first start VK's `ts` is kept at once, so a restart before any update misses none.
 */
const firstServer = async (ctx: LongPollContext): Promise<LongPollServer> => {
  const kept = await ctx.position.load();
  const server = await serverOf(ctx, kept);
  if (kept === undefined) await ctx.position.save(server.ts);
  else ctx.logger.info({ ts: kept }, 'vk long poll: resuming after the last update recorded');
  return server;
};

const check = async (ctx: LongPollContext, server: LongPollServer): Promise<CheckAnswer> => {
  const url = new URL(server.server);
  url.searchParams.set('act', 'a_check');
  url.searchParams.set('key', server.key);
  url.searchParams.set('ts', server.ts);
  url.searchParams.set('wait', '25');
  const res = await fetch(url, { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(40_000)]) });
  if (!res.ok) throw new Error(`long poll server answered HTTP ${res.status}`);
  return (await res.json()) as CheckAnswer;
};

/** Keeps `ts` as the position; a failed save only means a replay after the next restart. */
const keep = (ctx: LongPollContext, ts: string) =>
  ctx.position.save(ts).catch((err: unknown) => {
    ctx.logger.warn({ err, ts }, 'vk long poll: position not saved; a restart repeats a few updates');
  });

/** Moves the loop (and the kept position) on to `ts`. */
const moveTo = async (ctx: LongPollContext, server: LongPollServer, ts: string) => {
  if (ts === server.ts) return;
  server.ts = ts;
  await keep(ctx, ts);
};

/** Runs until the signal aborts. */
export const runLongPoll = async (ctx: LongPollContext): Promise<void> => {
  let server: LongPollServer | undefined;
  while (!ctx.signal.aborted) {
    try {
      server ??= await firstServer(ctx);
      const answer = await check(ctx, server);
      if (answer.failed === 1) {
        // VK no longer has every update after our ts (a long outage): what it dropped is lost.
        ctx.logger.warn(
          { from: server.ts, to: String(answer.ts) },
          'vk long poll: VK no longer holds every update since the last one recorded; going on from its ts',
        );
        await moveTo(ctx, server, String(answer.ts));
        continue;
      }
      if (answer.failed === 2) {
        server = await serverOf(ctx, server.ts); // the key expired: a new one, the same ts
        continue;
      }
      if (answer.failed !== undefined) {
        // 3: VK lost key and ts both, and what came meanwhile with them.
        ctx.logger.warn(
          { failed: answer.failed, from: server.ts },
          answer.failed === 3
            ? 'vk long poll: VK lost the poll’s key and ts; updates since the last one recorded may be lost'
            : 'vk long poll: an answer VK does not document; starting again with a new key and ts',
        );
        server = await serverOf(ctx);
        await keep(ctx, server.ts);
        continue;
      }
      for (const update of answer.updates ?? []) {
        if (!(await ctx.record(update))) return;
      }
      await moveTo(ctx, server, String(answer.ts));
    } catch (error) {
      if (ctx.signal.aborted) return;
      ctx.logger.warn({ err: error }, 'vk long poll failed; retrying');
      await ctx.pause();
    }
  }
};
