// The daily digest in the support group's General topic (docs/design.md, "Reminders and the daily
// digest"): at DIGEST_HOUR in DIGEST_TIME_ZONE, yesterday's conversations and median first response
// (the reports module's figures) and who waits now. Recorded before it is posted, once per day: the
// day's stream (digest-<date>) takes one DigestPosted, a second append is refused by its revision.
import { DateTime } from 'luxon';
import type pg from 'pg';
import { type DigestFigures, type DigestPosted, digestStream } from '../../domain/digest.ts';
import { WrongExpectedRevisionError } from '../../domain/errors.ts';
import type { EventLog } from '../../domain/event-log.ts';
import { responseReport, waitingNow } from '../../projections/read-models/reports-query.ts';
import type { Texts } from '../../texts/texts.ts';
import { eventIdOf } from '../ids.ts';
import { type GroupPoster, REMINDER_ACTOR } from './reminders.ts';
import { durationText } from './words.ts';

export interface DigestSchedule {
  /** The hour (0–23) it is posted at, in `timeZone`. */
  readonly hour: number;
  readonly timeZone: string;
}

export interface DigestContext {
  readonly pool: pg.Pool;
  readonly log: EventLog;
  readonly texts: Texts;
  readonly poster: GroupPoster;
  readonly schedule: DigestSchedule;
  readonly logger: { warn(o: object, m: string): void };
  /** The last day this process knows a digest was posted on (spares reading its stream every pass). */
  postedOn?: string;
}

const isWrongRevision = (error: unknown) =>
  error instanceof WrongExpectedRevisionError ||
  (error as { code?: unknown } | null)?.code === 'wrong_expected_revision';

/** Yesterday's figures, as the reports module computes them, and the waiting ones at `now`. */
export const digestFigures = async (
  pool: pg.Pool,
  day: { from: Date; to: Date; timeZone: string },
  now: Date,
): Promise<DigestFigures> => {
  const [report, waiting] = await Promise.all([
    responseReport(pool, { from: day.from, to: day.to, groupBy: 'day', timeZone: day.timeZone }),
    waitingNow(pool, now),
  ]);
  return {
    conversations: report.total.conversations,
    medianFirstResponseS: report.total.first_response.median_s,
    waiting: waiting.waiting,
    unassigned: waiting.unassigned,
  };
};

export const digestText = async (texts: Texts, day: string, f: DigestFigures): Promise<string> =>
  texts.topic('topic.digest', {
    date: day,
    conversations: f.conversations,
    first_response: await durationText(texts, f.medianFirstResponseS),
    waiting: f.waiting,
    unassigned: f.unassigned,
  });

/**
 * When the digest of the day `now` falls in is due: at the hour (or later that day, if this
 * instance was not leading then; a day whose hour passed unposted is not made up the next day).
 * Answers the day it is posted on, the day it reports, and the instant its hour begins.
 */
export const digestDay = (schedule: DigestSchedule, now: Date) => {
  const local = DateTime.fromJSDate(now, { zone: schedule.timeZone });
  const today = local.startOf('day');
  const yesterday = today.minus({ days: 1 });
  return {
    postedOn: today.toISODate()!,
    reports: yesterday.toISODate()!,
    from: yesterday.toJSDate(),
    to: today.toJSDate(),
    at: today.set({ hour: schedule.hour }).toJSDate(),
    nextAt: today.plus({ days: 1 }).set({ hour: schedule.hour }).toJSDate(),
  };
};

/** Posts the day's digest if it is due and not posted yet; answers when to look next. */
export const postDigestIfDue = async (
  ctx: DigestContext,
  now: () => Date,
  signal: AbortSignal,
): Promise<{ posted: boolean; nextAt: Date }> => {
  const day = digestDay(ctx.schedule, now());
  if (now() < day.at) return { posted: false, nextAt: day.at };
  const later = { posted: false, nextAt: day.nextAt };
  if (ctx.postedOn === day.postedOn) return later;
  const stream = digestStream(day.postedOn);
  if ((await ctx.log.readStream(stream, { maxCount: 1 })).length > 0) {
    ctx.postedOn = day.postedOn;
    return later;
  }
  await ctx.poster.quiet(signal);
  const at = now();
  const figures = await digestFigures(ctx.pool, { ...day, timeZone: ctx.schedule.timeZone }, at);
  const event: DigestPosted = {
    type: 'DigestPosted',
    data: { ...figures, day: day.reports, timeZone: ctx.schedule.timeZone },
  };
  let stored: boolean;
  try {
    const result = await ctx.log.append(
      stream,
      [
        {
          id: eventIdOf(JSON.stringify(['digest', day.postedOn])),
          type: event.type,
          data: event.data,
          metadata: {
            occurredAt: at.toISOString(),
            correlationId: `digest:${day.postedOn}`,
            causationId: `digest:${day.postedOn}`,
            actor: REMINDER_ACTOR,
          },
        },
      ],
      'no_stream',
    );
    stored = result.alreadyStored === true;
  } catch (error) {
    if (!isWrongRevision(error)) throw error;
    stored = true;
  }
  ctx.postedOn = day.postedOn;
  // Another instance recorded it first (it leads now, or led a moment ago): it posts it.
  if (stored) return later;
  try {
    await ctx.poster.post(undefined, await digestText(ctx.texts, day.reports, figures));
  } catch (error) {
    if (signal.aborted) throw error;
    ctx.logger.warn({ err: error, day: day.reports }, 'digest recorded but not posted');
  }
  return { posted: true, nextAt: day.nextAt };
};
