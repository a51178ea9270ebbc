// Read a stream, fold it, decide, append with the expected revision; retry when another writer got
// there first. The conversation handler adds id de-duplication on top; sources need only this.
import { WrongExpectedRevisionError } from './errors.ts';
import type { EventLog, NewEvent } from './event-log.ts';
import type { EventMetadata } from './events.ts';

export interface StreamDecider<C, E extends { type: string; data: unknown }, S> {
  readonly initial: S;
  readonly evolve: (state: S, event: E) => S;
  readonly decide: (command: C, state: S) => readonly E[];
}

export const runStreamCommand = async <C, E extends { type: string; data: unknown }, S>(
  log: EventLog,
  stream: string,
  decider: StreamDecider<C, E, S>,
  command: C,
  stamp: (index: number) => { id: string; metadata: EventMetadata },
  maxRetries = 10,
): Promise<{ state: S; events: readonly E[] }> => {
  for (let attempt = 0; ; attempt++) {
    const recorded = await log.readStream(stream);
    const state = recorded.reduce(
      (s, e) => decider.evolve(s, { type: e.type, data: e.data } as E),
      decider.initial,
    );
    const events = decider.decide(command, state);
    if (events.length === 0) return { state, events };
    const toAppend: NewEvent[] = events.map((e, i) => ({ ...stamp(i), type: e.type, data: e.data }));
    try {
      await log.append(stream, toAppend, recorded.length === 0 ? 'no_stream' : recorded.length - 1);
      return { state: events.reduce(decider.evolve, state), events };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError) || attempt >= maxRetries) throw error;
    }
  }
};
