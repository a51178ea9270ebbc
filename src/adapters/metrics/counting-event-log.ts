// The event-log port with a count of what this process appends, by event type. A decorator, so both
// logs (PostgreSQL, EventStoreDB) are counted the same way and neither adapter knows about metrics.
//
// The port answers a re-delivered append (every id already stored) exactly as it answered the first
// one, so the decorator cannot tell the two apart. The command handler drops events already in the
// stream before it appends, so a duplicate reaches the log only when two instances handle the same
// update at the same moment; such an append is counted twice.
import type { EventLog } from '../../domain/event-log.ts';

export const countingEventLog = (log: EventLog, appended: (type: string) => void): EventLog => ({
  async append(stream, events, expected) {
    const result = await log.append(stream, events, expected);
    for (const event of events) appended(event.type);
    return result;
  },
  ...(log.appendMany
    ? {
        async appendMany(requests) {
          const answers = await log.appendMany!(requests);
          requests.forEach((r, i) => {
            if (!(answers[i] instanceof Error)) for (const event of r.events) appended(event.type);
          });
          return answers;
        },
      }
    : {}),
  readStream: (stream, options) => log.readStream(stream, options),
  readAll: (from, maxCount) => log.readAll(from, maxCount),
  subscribeAll: (options, handler) => log.subscribeAll(options, handler),
  headPosition: () => log.headPosition(),
  ping: () => log.ping(),
  close: () => log.close(),
});
