// Sources and their tokens: the commands behind sources:create, tokens:create, tokens:revoke and
// the lookups the API's authentication needs.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { EventLog } from '../../domain/event-log.ts';
import { sourceStream } from '../../domain/events.ts';
import {
  decideSource,
  evolveSource,
  initialSourceState,
  type SourceCommand,
  type SourceCompat,
  type SourceState,
} from '../../domain/source.ts';
import { runStreamCommand } from '../../domain/stream-handler.ts';
import { eventIdOf } from '../ids.ts';
import {
  generateToken,
  generateWebhookSecret,
  parseImportedToken,
  parseToken,
  secretMatches,
} from './tokens.ts';

const decider = { initial: initialSourceState, evolve: evolveSource, decide: decideSource };

export const runSourceCommand = (log: EventLog, code: string, command: SourceCommand, actorId = 'cli') => {
  const commandId = randomUUID();
  return runStreamCommand(log, sourceStream(code), decider, command, (i) => ({
    id: eventIdOf(`${commandId}:${i}`),
    metadata: {
      occurredAt: new Date().toISOString(),
      correlationId: commandId,
      causationId: commandId,
      actor: { kind: 'system', id: actorId },
    },
  }));
};

export const readSource = async (log: EventLog, code: string): Promise<SourceState> =>
  (await log.readStream(sourceStream(code))).reduce(
    (s, e) => evolveSource(s, { type: e.type, data: e.data } as never),
    initialSourceState,
  );

declare const checked: unique symbol;
/**
 * A webhook URL that passed checkWebhookUrl (webhooks/address-guard.ts) when it was registered:
 * declared here, where it is required, so that the registry depends on no webhook module.
 */
export type CheckedWebhookUrl = string & { readonly [checked]: true };

/**
 * Registers a source and issues its first token; the webhook secret signs what is posted to it.
 * The URL must have passed checkWebhookUrl (address-guard.ts) under the operator's policy.
 */
export const createSource = async (
  log: EventLog,
  code: string,
  webhookUrl: CheckedWebhookUrl | null,
  actorId = 'cli',
  compat?: SourceCompat,
) => {
  const webhookSecret = generateWebhookSecret();
  await runSourceCommand(
    log,
    code,
    { type: 'RegisterSource', code, webhookUrl, webhookSecret, ...(compat ? { compat } : {}) },
    actorId,
  );
  return { ...(await issueToken(log, code, actorId)), webhookSecret };
};

/** Points the source's webhooks elsewhere (a checked URL), or turns them off (null). */
export const changeSourceWebhook = (
  log: EventLog,
  code: string,
  webhookUrl: CheckedWebhookUrl | null,
  actorId = 'cli',
) => runSourceCommand(log, code, { type: 'ChangeSourceWebhook', webhookUrl }, actorId);

/**
 * Gives the source a new webhook secret; the old one keeps signing beside it for `graceMs` from
 * `now`. Returns the new secret (shown once) and when the old one stops signing.
 */
export const rotateWebhookSecret = async (
  log: EventLog,
  code: string,
  graceMs: number,
  actorId = 'cli',
  now: Date = new Date(),
) => {
  const webhookSecret = generateWebhookSecret();
  const previousValidUntil = new Date(now.getTime() + graceMs).toISOString();
  await runSourceCommand(
    log,
    code,
    { type: 'RotateWebhookSecret', webhookSecret, previousValidUntil },
    actorId,
  );
  return { webhookSecret, previousValidUntil };
};

/** Makes the source speak another system's dialect (compat/dialect.ts parses one), or its own (null). */
export const changeSourceCompat = (
  log: EventLog,
  code: string,
  compat: SourceCompat | null,
  actorId = 'cli',
) => runSourceCommand(log, code, { type: 'ChangeSourceCompat', compat }, actorId);

export const issueToken = async (log: EventLog, code: string, actorId = 'cli') => {
  const token = generateToken();
  await runSourceCommand(
    log,
    code,
    { type: 'IssueToken', tokenId: token.tokenId, hash: token.hash },
    actorId,
  );
  return token;
};

export interface AuthenticatedSource {
  readonly code: string;
  readonly tokenId: string;
  /** The dialect its API and webhooks speak; absent: topicdesk's own. */
  readonly compat?: SourceCompat;
}

interface TokenRow {
  source_code: string;
  hash: string;
  revoked_at: Date | null;
  compat: SourceCompat | null;
}

/** Bearer token → its source, from the read model; undefined for anything not a live token. */
export const authenticate = async (
  pool: pg.Pool,
  bearer: string | undefined,
): Promise<AuthenticatedSource | undefined> => {
  const parsed = bearer ? (parseToken(bearer) ?? parseImportedToken(bearer)) : undefined;
  if (!parsed) return undefined;
  // The dialect read through to_jsonb: the read model built before its version 2 has no such
  // column, and answers null for it until projections:rebuild sources.
  const { rows } = await pool.query<TokenRow>(
    `SELECT t.source_code, t.hash, t.revoked_at, to_jsonb(s) -> 'compat' AS compat
       FROM rm_source_tokens t LEFT JOIN rm_sources s ON s.code = t.source_code WHERE t.token_id = $1`,
    [parsed.tokenId],
  );
  const row = rows[0];
  if (!row || row.revoked_at || !secretMatches(parsed.secret, row.hash)) return undefined;
  return { code: row.source_code, tokenId: parsed.tokenId, ...(row.compat ? { compat: row.compat } : {}) };
};

/**
 * The dialect a refused token's source speaks, to refuse it in that dialect: by the token id of a
 * topicdesk token (wrong secret, revoked), or for a tg-support-bot-shaped token (64 letters and
 * digits, which topicdesk never issues) the dialect itself.
 */
export const dialectOfRefusedToken = async (
  pool: pg.Pool,
  bearer: string | undefined,
): Promise<SourceCompat['dialect'] | undefined> => {
  if (bearer && /^[A-Za-z0-9]{64}$/.test(bearer)) return 'tg-support-bot';
  const parsed = bearer ? /^td_([0-9a-f]{12})_/.exec(bearer) : null;
  if (!parsed) return undefined;
  const { rows } = await pool.query<{ compat: SourceCompat | null }>(
    `SELECT to_jsonb(s) -> 'compat' AS compat
       FROM rm_source_tokens t JOIN rm_sources s ON s.code = t.source_code WHERE t.token_id = $1`,
    [parsed[1]],
  );
  return rows[0]?.compat?.dialect;
};
