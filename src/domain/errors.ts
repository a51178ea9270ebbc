// A few error types with stable codes; adapters map them to HTTP problems and log lines.

export type DomainErrorCode =
  | 'conversation_not_started'
  | 'message_not_found'
  | 'message_deleted'
  | 'message_exists'
  | 'not_a_manager_reply'
  | 'not_a_client_message'
  | 'no_topic'
  | 'topic_exists'
  | 'already_banned'
  | 'not_banned'
  | 'already_closed'
  | 'not_closed'
  | 'note_empty'
  | 'no_pinned_note'
  | 'not_assigned'
  // Satisfaction (CSAT)
  | 'rating_not_requested'
  | 'invalid_rating'
  | 'already_rated'
  | 'invalid_comment'
  | 'not_rated'
  | 'already_commented'
  | 'invalid_command';

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Optimistic concurrency: the stream moved on since it was read. Nothing was written. */
export class WrongExpectedRevisionError extends Error {
  override readonly name = 'WrongExpectedRevisionError';
  readonly code = 'wrong_expected_revision';
  constructor(
    readonly stream: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`stream ${stream}: expected revision ${expected}, found ${actual}`);
  }
}

/**
 * Some of an append's event ids are stored in another stream: two different commands were given the
 * same ids. Never a re-delivery (that is the same stream), so never retried.
 */
export class EventIdConflictError extends Error {
  override readonly name = 'EventIdConflictError';
  readonly code = 'event_id_conflict';
  constructor(
    readonly stream: string,
    readonly otherStream: string,
  ) {
    super(`stream ${stream}: event ids of this append are stored in ${otherStream} already`);
  }
}

/** A command kept meeting a moving stream (or a log contradicting itself) and was given up. Nothing was written by it. */
export class CommandGaveUpError extends Error {
  override readonly name = 'CommandGaveUpError';
  readonly code = 'command_gave_up';
  constructor(
    readonly conversationId: string,
    readonly attempts: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`conversation ${conversationId}: command given up after ${attempts} attempts (${reason})`, options);
  }
}
