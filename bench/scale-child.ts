// One size of `npm run bench -- scale`, in a process of its own (started by bench/scale.ts with an IPC
// channel): the projections benchmark at that size, its table printed, its figures and the process's
// peak RSS sent back to the parent. A process per size, so that one size's heap does not carry over
// into the next one's memory figures.
import { benchProjections, type ProjectionsMetrics } from './projections.ts';
import { printTable } from './support.ts';

export interface ScaleChildInput {
  readonly events: number;
  readonly conversations: number;
  readonly rounds: number;
}

export interface ScaleChildOutput {
  readonly metrics: ProjectionsMetrics;
  /** Peak resident set size of this process over its whole life (bytes): load, COPY, rebuilds, pages. */
  readonly maxRss: number;
  /** Wall time of the size's whole run (ms), database start and stop included. */
  readonly ms: number;
}

const send = process.send?.bind(process);
if (!send) throw new Error('bench/scale-child.ts is started by bench/scale.ts (npm run bench -- scale)');
const input = JSON.parse(process.argv[2] ?? '{}') as ScaleChildInput;
const t0 = performance.now();
const { rows, metrics } = await benchProjections(input);
printTable(
  `projections at ${input.events.toLocaleString('en-US')} events, ${input.conversations.toLocaleString('en-US')} conversations`,
  rows,
);
const output: ScaleChildOutput = {
  metrics,
  maxRss: process.resourceUsage().maxRSS * 1024,
  ms: performance.now() - t0,
};
await new Promise<void>((resolve, reject) =>
  send(output, (error: Error | null) => (error ? reject(error) : resolve())),
);
// Nothing is left to run; do not wait for stray handles (timers, sockets) to end on their own.
process.exit(0);
