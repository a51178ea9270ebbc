// A fake clock for the outgoing limiter's waits (test/int/topic-status.int.test.ts,
// test/int/reminders-limiter.int.test.ts).

/**
 * Virtual time for the limiter: `sleep` waits on the fake clock, and whenever something sleeps the
 * clock jumps to the earliest wake-up — only once no call the limiter let go is still on its way
 * (`busy`) for two ticks in a row, so a call's successor has registered its own wait before time
 * moves. A minute of pacing passes in a moment; every wait is measured exactly.
 */
export const fakeClock = (busy: () => boolean) => {
  let t = 1_000_000;
  const sleepers: { at: number; wake: () => void }[] = [];
  let quiet = 0;
  const timer = setInterval(() => {
    if (sleepers.length === 0 || busy()) {
      quiet = 0;
      return;
    }
    if (++quiet < 2) return;
    quiet = 0;
    sleepers.sort((a, b) => a.at - b.at);
    const next = sleepers.shift()!;
    t = Math.max(t, next.at);
    next.wake();
  }, 3);
  return {
    now: () => t,
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        const sleeper = { at: t + ms, wake: resolve };
        sleepers.push(sleeper);
        signal?.addEventListener('abort', () => {
          sleepers.splice(sleepers.indexOf(sleeper), 1);
          reject(signal.reason);
        });
      }),
    stop: () => clearInterval(timer),
  };
};
