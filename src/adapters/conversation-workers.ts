// The reactors' fan-out: a batch's conversations handled a few at a time, each in its own order.

/**
 * Runs `work` for each item, `concurrency` at a time. After a failure no new item starts, the ones
 * under way are let finish, and then the first error is thrown: the runner retries the batch from
 * its checkpoint, and must not while this attempt's calls are still in flight (they would be made
 * twice, concurrently).
 */
export const forEachConcurrently = async <T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  work: (item: T) => Promise<void>,
): Promise<void> => {
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !signal.aborted && !failure) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure) throw failure.error;
};
