// Appending a plan to topicdesk's log, safely twice (docs/design.md, "Importing from tg-support-bot"):
// the stream is read first and only what it lacks is appended, with the revision it was read at. A
// stream topicdesk started by itself is left alone; one an earlier import started is topped up.
import { decodeConversationEvent } from '../../adapters/event-codec.ts';
import { idOfParts } from '../../adapters/ids.ts';
import {
  generateWebhookSecret,
  hashSecret,
  importedTokenId,
  parseImportedToken,
} from '../../adapters/sources/tokens.ts';
import { foldConversation, messageIdOfEvent } from '../../domain/conversation-fold.ts';
import { WrongExpectedRevisionError } from '../../domain/errors.ts';
import type { EventLog, NewEvent, RecordedEvent } from '../../domain/event-log.ts';
import { type ConversationEvent, isImported, sourceStream } from '../../domain/events.ts';
import {
  evolveSource,
  initialSourceState,
  type SourceCompat,
  type SourceEvent,
} from '../../domain/source.ts';
import { type ConversationPlan, IMPORTER, type PlannedEvent, type Unmapped } from './plan.ts';

/** Events per append: a long conversation is several appends, each its own step to resume from. */
const CHUNK = 500;

export type Outcome = 'created' | 'topped-up' | 'unchanged' | 'skipped';

export interface ConversationOutcome {
  readonly outcome: Outcome;
  /** The events appended (or, in a dry run, that would be). */
  readonly events: readonly PlannedEvent[];
  readonly why?: string;
}

const readAll = (log: EventLog, stream: string): Promise<RecordedEvent[]> => log.readStream(stream);

const appendInChunks = async (
  log: EventLog,
  stream: string,
  events: readonly NewEvent[],
  revision: number,
): Promise<void> => {
  let expected: number | 'no_stream' = revision < 0 ? 'no_stream' : revision;
  for (let i = 0; i < events.length; i += CHUNK) {
    const chunk = events
      .slice(i, i + CHUNK)
      .map(({ id, type, data, metadata }) => ({ id, type, data, metadata }));
    const result = await log.append(stream, chunk, expected);
    expected = result.nextRevision;
  }
};

/** What the stream lacks of the plan; `skipped` when topicdesk itself started the conversation. */
export const missingEvents = (
  plan: ConversationPlan,
  recorded: readonly RecordedEvent[],
): { outcome: Outcome; events: PlannedEvent[]; why?: string } => {
  if (recorded.length === 0) return { outcome: 'created', events: [...plan.events] };
  if (!isImported(recorded[0]!.metadata))
    return {
      outcome: 'skipped',
      events: [],
      why: 'topicdesk has this conversation already (it was not imported): left as it is',
    };
  const ids = new Set(recorded.map((e) => e.id));
  const live = new Set<string>();
  const decoded: ConversationEvent[] = [];
  for (const e of recorded) {
    let event: ConversationEvent;
    try {
      event = decodeConversationEvent(e);
    } catch {
      continue; // written by a newer version: the fold would skip it too
    }
    decoded.push(event);
    const m = messageIdOfEvent(event);
    if (m && !isImported(e.metadata)) live.add(m);
  }
  const state = foldConversation(decoded);
  const events = plan.events.filter((e) => {
    if (ids.has(e.id)) return false;
    switch (e.role) {
      case 'start':
        return false;
      case 'topic':
        return state.topic === null;
      case 'message':
        // A message topicdesk recorded itself (the same Telegram message) is not recorded again.
        return !live.has(e.messageId!);
      case 'ban':
        return !state.banned;
      case 'close':
        return !state.closed;
      default:
        return false;
    }
  });
  return { outcome: events.length > 0 ? 'topped-up' : 'unchanged', events };
};

/** Imports one conversation; a concurrent append (the app is running) makes it read and try again. */
export const writeConversation = async (
  log: EventLog,
  plan: ConversationPlan,
  dryRun: boolean,
): Promise<ConversationOutcome> => {
  for (let attempt = 1; ; attempt++) {
    const recorded = await readAll(log, plan.stream);
    const missing = missingEvents(plan, recorded);
    if (dryRun || missing.events.length === 0) return missing;
    try {
      await appendInChunks(log, plan.stream, missing.events, recorded.at(-1)?.revision ?? -1);
      return missing;
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError) || attempt >= 5) throw error;
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Sources

export interface SourcePlan {
  /** The external_sources row (absent: a source only external_users names). */
  readonly rowId?: string;
  readonly name: string;
  readonly code: string;
  readonly webhookUrl: string | null;
  readonly createdAt: Date;
  readonly tokens: ReadonlyArray<{ readonly rowId: string; readonly token: string }>;
}

export interface SourceOutcome {
  readonly code: string;
  readonly name: string;
  readonly outcome: Outcome;
  readonly webhookUrl: string | null;
  /** The API dialect it speaks after the import (`--compat`); absent: topicdesk's own. */
  readonly compat?: SourceCompat;
  /** A source registered now: its new webhook secret (shown once). */
  readonly webhookSecret?: string;
  /** Every imported token of the source: its id, the row it came from, whether this run added it. */
  readonly tokens: ReadonlyArray<{
    readonly tokenId: string;
    readonly rowId: string;
    readonly added: boolean;
  }>;
  readonly why?: string;
}

const sourceMeta = (table: string, id: string, at: Date) => {
  const correlation = `import:${IMPORTER}:${table}:${id}`;
  return {
    occurredAt: at.toISOString(),
    correlationId: correlation,
    causationId: correlation,
    actor: { kind: 'import' as const, id: IMPORTER },
    imported: { from: IMPORTER, table, id },
  };
};

/** Registers the source (or tops up its tokens when an earlier import registered it). */
export const writeSource = async (
  log: EventLog,
  plan: SourcePlan,
  dryRun: boolean,
  compat?: SourceCompat,
): Promise<SourceOutcome> => {
  const stream = sourceStream(plan.code);
  const table = plan.rowId ? 'external_sources' : 'external_users';
  const rowId = plan.rowId ?? plan.name;
  for (let attempt = 1; ; attempt++) {
    const recorded = await log.readStream(stream);
    const base = {
      code: plan.code,
      name: plan.name,
      webhookUrl: plan.webhookUrl,
      ...(compat ? { compat } : {}),
    };
    if (recorded.length > 0 && !isImported(recorded[0]!.metadata))
      return {
        ...base,
        outcome: 'skipped',
        tokens: [],
        why: `topicdesk has a source ${plan.code} already (not imported): left as it is, its tokens were not imported`,
      };
    const state = recorded.reduce(
      (s, e) => evolveSource(s, { type: e.type, data: e.data } as SourceEvent),
      initialSourceState,
    );
    const events: NewEvent[] = [];
    let webhookSecret: string | undefined;
    if (!state.registered) {
      webhookSecret = generateWebhookSecret();
      events.push({
        id: idOfParts([IMPORTER, stream, table, rowId, 'SourceRegistered']),
        type: 'SourceRegistered',
        data: { code: plan.code, webhookUrl: plan.webhookUrl, webhookSecret, ...(compat ? { compat } : {}) },
        metadata: sourceMeta(table, rowId, plan.createdAt),
      });
    } else if (compat && JSON.stringify(state.compat ?? null) !== JSON.stringify(compat)) {
      // Imported before without this dialect: it speaks it from now on (the id names the dialect, so
      // running the same import again adds nothing).
      events.push({
        id: idOfParts([IMPORTER, stream, 'compat', JSON.stringify(compat)]),
        type: 'SourceCompatChanged',
        data: { compat },
        metadata: sourceMeta(table, rowId, new Date()),
      });
    }
    const tokens = plan.tokens.map((t) => {
      const tokenId = importedTokenId(t.token);
      const added = !state.tokens.has(tokenId);
      if (added)
        events.push({
          id: idOfParts([IMPORTER, stream, 'external_source_access_tokens', t.rowId, 'TokenIssued']),
          type: 'TokenIssued',
          data: { tokenId, hash: hashSecret(t.token) },
          metadata: sourceMeta('external_source_access_tokens', t.rowId, plan.createdAt),
        });
      return { tokenId, rowId: t.rowId, added };
    });
    const outcome: Outcome = !state.registered ? 'created' : events.length > 0 ? 'topped-up' : 'unchanged';
    // A secret is shown only when it was recorded.
    const result = { ...base, outcome, tokens, ...(webhookSecret && !dryRun ? { webhookSecret } : {}) };
    if (dryRun || events.length === 0) return result;
    try {
      await log.append(stream, events, recorded.at(-1)?.revision ?? 'no_stream');
      return result;
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError) || attempt >= 5) throw error;
    }
  }
};

/** A token tg-support-bot issued, if topicdesk can take it in (letters and digits only). */
export const importableToken = (table: string, rowId: string, token: string): Unmapped | undefined =>
  parseImportedToken(token)
    ? undefined
    : {
        table,
        id: rowId,
        why: 'the token is not 16–128 letters and digits, so it could not be told from a topicdesk token',
      };
