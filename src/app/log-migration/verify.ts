// The check at the end of log:migrate: both logs walked side by side from the start, each hashed on
// its own (ids, streams, revisions, types, data, metadata, recording times, in log order) and counted
// per stream, and, from the pairs, where each checkpoint's event landed in EventStoreDB.
import { createHash } from 'node:crypto';
import {
  comparePositions,
  type EventLog,
  formatPosition,
  type LogPosition,
  type RecordedEvent,
  startOfLog,
} from '../../domain/event-log.ts';

/** JSON with object keys sorted, so the same value hashes the same whichever log stored it. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );

const line = (e: RecordedEvent): string =>
  `${canonicalJson([e.id, e.stream, e.revision, e.type, e.data, e.metadata, e.recordedAt.toISOString()])}\n`;

export interface SideSummary {
  readonly events: number;
  readonly streams: number;
  /** sha256 over every event in log order. */
  readonly checksum: string;
}

export interface Verification {
  readonly source: SideSummary;
  readonly target: SideSummary;
  /** Streams whose event counts differ: stream → [source, target]. */
  readonly countMismatches: ReadonlyMap<string, readonly [number, number]>;
  /** The first pair of events that differ, described; undefined when none does. */
  readonly firstDifference?: string;
  /** Each checkpoint given (by formatPosition) → the target position of the last event at or before it (null: none). */
  readonly mapped: ReadonlyMap<string, LogPosition | null>;
  readonly ok: boolean;
}

class Side {
  readonly hash = createHash('sha256');
  readonly counts = new Map<string, number>();
  events = 0;
  position: LogPosition = startOfLog;
  add(e: RecordedEvent) {
    this.hash.update(line(e));
    this.counts.set(e.stream, (this.counts.get(e.stream) ?? 0) + 1);
    this.events++;
    this.position = e.position;
  }
  summary(): SideSummary {
    return { events: this.events, streams: this.counts.size, checksum: this.hash.digest('hex') };
  }
}

export const verifyCopy = async (
  source: EventLog,
  target: EventLog,
  checkpoints: readonly LogPosition[],
  options: { pageSize?: number; onProgress?: (events: number) => void } = {},
): Promise<Verification> => {
  const pageSize = options.pageSize ?? 4000;
  const pending = [...checkpoints].sort(comparePositions);
  const mapped = new Map<string, LogPosition | null>();
  const s = new Side();
  const t = new Side();
  let lastTarget: LogPosition | null = null;
  let firstDifference: string | undefined;
  for (;;) {
    const [sp, tp] = await Promise.all([
      source.readAll(s.position, pageSize),
      target.readAll(t.position, pageSize),
    ]);
    if (sp.length === 0 && tp.length === 0) break;
    for (let i = 0; i < Math.max(sp.length, tp.length); i++) {
      const a = sp[i];
      const b = tp[i];
      if (a) {
        // Checkpoints before this event map to the event before it.
        while (pending.length > 0 && comparePositions(pending[0]!, a.position) < 0)
          mapped.set(formatPosition(pending.shift()!), lastTarget);
        s.add(a);
      }
      if (b) t.add(b);
      if (a && b) lastTarget = b.position;
      if (!firstDifference && (!a || !b || line(a) !== line(b)))
        firstDifference = `event ${s.events}: PostgreSQL ${a ? `${a.stream}@${a.revision} ${a.id}` : 'ended'}, EventStoreDB ${b ? `${b.stream}@${b.revision} ${b.id}` : 'ended'}`;
    }
    options.onProgress?.(Math.max(s.events, t.events));
  }
  for (const p of pending) mapped.set(formatPosition(p), lastTarget);
  const countMismatches = new Map<string, readonly [number, number]>();
  for (const stream of new Set([...s.counts.keys(), ...t.counts.keys()])) {
    const a = s.counts.get(stream) ?? 0;
    const b = t.counts.get(stream) ?? 0;
    if (a !== b) countMismatches.set(stream, [a, b]);
  }
  const src = s.summary();
  const tgt = t.summary();
  return {
    source: src,
    target: tgt,
    countMismatches,
    ...(firstDifference ? { firstDifference } : {}),
    mapped,
    ok:
      !firstDifference &&
      countMismatches.size === 0 &&
      src.checksum === tgt.checksum &&
      src.events === tgt.events,
  };
};
