// An event copied into EventStoreDB by log:migrate keeps the time PostgreSQL recorded it in its
// metadata (ESDB stamps its own `created` on every append); this decorator reads that time back as
// the event's recordedAt and leaves the metadata as it was, so the audit history, the message
// resource and the read models see the event as the first log recorded it (docs/design.md, "Moving
// the log to EventStoreDB").
import type { EventLog, NewEvent, RecordedEvent } from '../../domain/event-log.ts';
import type { EventMetadata } from '../../domain/events.ts';

/** The metadata key holding the original recording time (ISO 8601) of a copied event. */
export const ORIGINAL_TIME_KEY = 'recordedAt';

/** The event as log:migrate appends it: the same id, type, data and metadata, plus its recording time. */
export const copiedEvent = (e: RecordedEvent): NewEvent => ({
  id: e.id,
  type: e.type,
  data: e.data,
  metadata: { ...e.metadata, [ORIGINAL_TIME_KEY]: e.recordedAt.toISOString() } as EventMetadata,
});

const restore = (e: RecordedEvent): RecordedEvent => {
  const meta = e.metadata as unknown as Record<string, unknown> | null;
  const original = meta?.[ORIGINAL_TIME_KEY];
  if (typeof original !== 'string') return e;
  const { [ORIGINAL_TIME_KEY]: _, ...rest } = meta!;
  return { ...e, metadata: rest as unknown as EventMetadata, recordedAt: new Date(original) };
};

export const withOriginalTimes = (log: EventLog): EventLog => ({
  ...log,
  append: (stream, events, expected) => log.append(stream, events, expected),
  readStream: async (stream, options) => (await log.readStream(stream, options)).map(restore),
  readAll: async (from, maxCount) => (await log.readAll(from, maxCount)).map(restore),
  subscribeAll: (options, handler) => log.subscribeAll(options, (batch) => handler(batch.map(restore))),
  headPosition: () => log.headPosition(),
  ping: () => log.ping(),
  close: () => log.close(),
});
