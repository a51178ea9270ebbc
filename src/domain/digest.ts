// The daily digest in the support group's General topic (docs/design.md, "Reminders and the daily
// digest"): one stream per day, `digest-<YYYY-MM-DD>` (the day it is posted, in the digest's zone),
// holding the one DigestPosted that says it was posted. A second append to a day's stream is refused
// by its expected revision, so a restart or a second instance never posts a day's digest twice.

export interface DigestFigures {
  /** Conversations with activity (opened or a message) on the day reported. */
  readonly conversations: number;
  /** The median time from a client's first message to the first manager's answer, that day; null: none. */
  readonly medianFirstResponseS: number | null;
  /** Conversations waiting for an answer when the digest was made, and of those, with nobody assigned. */
  readonly waiting: number;
  readonly unassigned: number;
}

export interface DigestPosted {
  readonly type: 'DigestPosted';
  readonly data: DigestFigures & {
    /** The day reported (YYYY-MM-DD, the digest's zone): the day before the one it was posted on. */
    readonly day: string;
    readonly timeZone: string;
  };
}

/** The stream of the digest posted on `postedOn` (YYYY-MM-DD). */
export const digestStream = (postedOn: string): string => `digest-${postedOn}`;
