// Polls until a probe answers (anything but undefined or false) or the time is up: for tests that
// wait on what another part does in its own time. Kept apart from app-harness.ts so that a test that
// starts no app does not load one to use it.
export const waitFor = async <T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
