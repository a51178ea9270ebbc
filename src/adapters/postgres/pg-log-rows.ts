// A row of td_events as the PostgreSQL log's reads return it, and a log position as their parameters.
import type { LogPosition, RecordedEvent } from '../../domain/event-log.ts';
import type { EventMetadata } from '../../domain/events.ts';

export interface EventRow {
  position: string;
  transaction_id: string;
  event_id: string;
  stream: string;
  revision: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  recorded_at: Date;
}

export const columns =
  'position, transaction_id, event_id, stream, revision, type, data, metadata, recorded_at';

export const toRecorded = (r: EventRow): RecordedEvent => ({
  id: r.event_id,
  stream: r.stream,
  revision: Number(r.revision),
  position: { commit: BigInt(r.transaction_id), prepare: BigInt(r.position) },
  type: r.type,
  data: r.data,
  metadata: r.metadata,
  recordedAt: r.recorded_at,
});

export const positionParams = (p: LogPosition) => [
  (p.commit < 0n ? 0n : p.commit).toString(),
  p.prepare.toString(),
];
