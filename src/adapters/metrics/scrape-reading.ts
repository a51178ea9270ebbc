// One reading of the database serves every metric of a scrape (they collect at once); a database
// that does not answer within the time leaves them out of that scrape instead of failing it.

export interface ScrapeReadingOptions<T> {
  readonly source?: () => Promise<T>;
  readonly timeoutMs: number;
  /** What the metrics get without a reading (no source, an error, no answer in time). */
  readonly fallback: T;
  readonly logger?: { debug(obj: object, msg: string): void };
  /** The debug line when a reading is skipped. */
  readonly skipped: string;
}

/** A reader shared by the metrics of one scrape: concurrent calls get the same pending reading. */
export const scrapeReading = <T>(options: ScrapeReadingOptions<T>): (() => Promise<T>) => {
  const { source, timeoutMs, fallback, logger, skipped } = options;
  let pending: Promise<T> | undefined;
  return () => {
    if (!source) return Promise.resolve(fallback);
    pending ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        return await Promise.race([source(), timeout]);
      } catch (err) {
        logger?.debug({ err }, skipped);
        return fallback;
      } finally {
        clearTimeout(timer);
        pending = undefined;
      }
    })();
    return pending;
  };
};
