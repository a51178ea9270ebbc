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
