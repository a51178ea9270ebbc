// topicdesk_command_duration_seconds: how long a conversation command takes from its call to its
// events recorded (or its refusal), by command type and outcome. The cold read after a restart and a
// long conversation's cost show here, apart from the HTTP or Telegram work around them.
import client from 'prom-client';
import type { CommandHandler } from '../../domain/command-handler.ts';

export type CommandOutcome = 'recorded' | 'handled_before' | 'nothing' | 'failed';

export interface CommandTiming {
  readonly command: string;
  readonly outcome: CommandOutcome;
  readonly seconds: number;
}

export const commandDurations = (registry: client.Registry): ((t: CommandTiming) => void) => {
  const histogram = new client.Histogram({
    name: 'topicdesk_command_duration_seconds',
    help: 'Conversation commands from call to recorded (or refused), by command type and outcome',
    labelNames: ['command', 'outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return (t) => histogram.observe({ command: t.command, outcome: t.outcome }, t.seconds);
};

/** The same handler, each execute timed and reported. */
export const timedCommands = (
  handler: CommandHandler,
  report: (t: CommandTiming) => void,
): CommandHandler => ({
  reader: handler.reader,
  async execute(conversationId, command, meta, clock) {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const result = await handler.execute(conversationId, command, meta, clock);
      const outcome: CommandOutcome = result.alreadyHandled
        ? 'handled_before'
        : result.events.length > 0
          ? 'recorded'
          : 'nothing';
      report({ command: command.type, outcome, seconds: seconds() });
      return result;
    } catch (error) {
      report({ command: command.type, outcome: 'failed', seconds: seconds() });
      throw error;
    }
  },
});
