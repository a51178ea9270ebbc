// Recording what became of a webhook attempt: an event in the conversation's log (ReplyDelivered /
// DeliveryFailed, with a command id derived from the delivery and the attempt, so an outcome
// reported twice is recorded once), the queue row's new state, and the metrics hook.
import type pg from 'pg';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { ConversationCommand } from '../../domain/conversation-commands.ts';
import { DomainError } from '../../domain/errors.ts';
import type { RunnerLogger } from '../../projections/runner.ts';
import { commandIdOf } from '../ids.ts';
import { type AttemptUpdate, type DeliveryRow, recordAttempt } from './deliveries.ts';
import { WEBHOOK_ACTOR_ID } from './reactor.ts';

export interface WebhookOutcome {
  readonly source: string;
  /** delivered: a 2xx; retry: failed, tried again later; failed: given up. */
  readonly outcome: 'delivered' | 'retry' | 'failed';
  /** The receiver's HTTP status, when it answered. */
  readonly status?: number;
}

export interface OutcomeContext {
  readonly pool: pg.Pool;
  /** Records the outcome; the message's state is read through its `reader`. */
  readonly handler: CommandHandler;
  readonly logger: RunnerLogger;
  /** Metrics hook: one call per attempt's outcome. */
  readonly onOutcome?: ((outcome: WebhookOutcome) => void) | undefined;
}

/** An edit overtaken by a later edit of the same answer: its outcome is not the message's any more. */
const overtaken = async (ctx: OutcomeContext, row: DeliveryRow): Promise<boolean> => {
  if (row.operation !== 'edit') return false;
  const { state } = await ctx.handler.reader.read(row.conversation_id, {
    messageIds: [row.message_id],
    fresh: true,
  });
  return (state.messages.get(row.message_id)?.editCount ?? 0) > row.edit_number;
};

/** Records an outcome in the log; false when it was not recorded because a later edit overtook it. */
export const recordOutcome = async (
  ctx: OutcomeContext,
  row: DeliveryRow,
  command: ConversationCommand,
  step: string,
  at: Date,
): Promise<boolean> => {
  // The state keeps one outcome per operation, cleared by each edit: an older edit's outcome
  // recorded after a newer edit would stand for the newer one.
  if (await overtaken(ctx, row)) return false;
  try {
    await ctx.handler.execute(row.conversation_id, command, {
      commandId: commandIdOf('webhook', row.delivery_id, step),
      actor: { kind: 'system', id: WEBHOOK_ACTOR_ID },
      causationId: row.event_id,
      correlationId: row.correlation_id,
      occurredAt: at.toISOString(),
    });
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    ctx.logger.warn(
      { err: error, deliveryId: row.delivery_id },
      'webhook outcome refused by the conversation; not recorded',
    );
  }
  return true;
};

/** The queue row's new state, then the metrics hook (none for a delivery that was not attempted). */
export const settle = async (
  ctx: OutcomeContext,
  row: DeliveryRow,
  update: AttemptUpdate,
  outcome?: WebhookOutcome,
): Promise<void> => {
  await recordAttempt(ctx.pool, row.delivery_id, update);
  if (outcome) ctx.onOutcome?.(outcome);
};
