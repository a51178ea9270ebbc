// `topicdesk history <conversationId | channel:clientId> [--at TIME] [--json]` (docs/design.md,
// "The audit history"): a conversation's audit history straight from the log, or its state at a
// past moment.
import { decodeConversationEvent } from '../../adapters/event-codec.ts';
import { conversationIdOf } from '../../adapters/ids.ts';
import { settingsKindEntries } from '../../adapters/settings/kinds.ts';
import { isSettingsKind } from '../../domain/settings.ts';
import {
  type ConversationSnapshot,
  conversationAt,
  conversationHistory,
  type HistoryEntry,
  type SnapshotMessage,
  settingsHistory,
} from '../../projections/history.ts';
import { resolveConversationRef } from '../../projections/history-refs.ts';
import { describeContent } from '../../projections/history-summary.ts';
import { type Context, openContext } from '../context.ts';

export interface HistoryOptions {
  readonly at?: Date;
  readonly json?: boolean;
}

/** Columns padded to their widest cell; the last column is not padded. */
const table = (rows: readonly (readonly string[])[], indent = ''): string[] => {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
  );
};

const title = (ref: string, conversationId: string): string =>
  ref.trim().toLowerCase() === conversationId
    ? `conversation ${conversationId}`
    : `conversation ${ref} (${conversationId})`;

export const formatHistory = (
  ref: string,
  conversationId: string,
  entries: readonly HistoryEntry[],
  heading = title(ref, conversationId),
): string =>
  [
    `${heading}: ${entries.length} event${entries.length === 1 ? '' : 's'}`,
    ...table([
      ['rev', 'recorded at', 'actor', 'type', 'summary'],
      ...entries.map((e) => [
        String(e.revision),
        e.recordedAt,
        `${e.actor.kind}:${e.actor.id}`,
        e.type,
        e.summary,
      ]),
    ]),
  ].join('\n');

const author = (m: SnapshotMessage): string =>
  m.direction === 'incoming' ? 'client' : `manager ${m.managerName ?? ''}`.trimEnd();

const savedAnswer = (m: SnapshotMessage): string =>
  m.template ? `[saved answer ${m.template.name} v${m.template.version}]` : '';

const marks = (m: SnapshotMessage): string =>
  [m.edits > 0 ? '[edited]' : '', m.deleted ? '[deleted]' : '', m.suppressed ? '[not forwarded]' : '']
    .filter(Boolean)
    .join(' ');

const withMarks = (m: SnapshotMessage): string =>
  [describeContent(m), savedAnswer(m), marks(m)].filter(Boolean).join(' ');

export const formatSnapshot = (ref: string, s: ConversationSnapshot): string => {
  const head = `${title(ref, s.conversationId)} at ${s.at}`;
  if (!s.started) {
    return `${head}: not started yet (its first event was recorded at ${s.firstRecordedAt ?? 'no time: the log has no such conversation'})`;
  }
  const { firstName, lastName, username } = s.profile ?? {};
  const name = [firstName, lastName].filter(Boolean).join(' ');
  const client = [
    `${s.channel}${s.source === s.channel ? '' : ` source ${s.source}`} client ${s.clientId}`,
    name ? JSON.stringify(name) : '',
    username ? `@${username}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const topic = s.topic === null ? 'no topic' : `topic ${s.topic.topicId} ${JSON.stringify(s.topic.title)}`;
  return [
    `${head} (as of revision ${s.revision})`,
    `client:   ${client}`,
    `status:   ${s.closed ? 'closed' : 'open'} · ${s.banned ? 'banned' : 'not banned'} · ${topic}`,
    `messages: ${s.messages.length}`,
    ...table(
      s.messages.map((m) => [m.messageId, m.createdAt, author(m), m.status, withMarks(m)]),
      '  ',
    ),
    ...(s.pinnedNote ? [`pinned:   ${JSON.stringify(s.pinnedNote.text)} (${s.pinnedNote.managerName})`] : []),
    ...(s.notes.length > 0
      ? [
          `notes:    ${s.notes.length} (internal, never sent to the client)`,
          ...table(
            s.notes.map((n) => [n.createdAt, `manager ${n.managerName}`, JSON.stringify(n.text)]),
            '  ',
          ),
        ]
      : []),
  ].join('\n');
};

/** Runs the command; `no conversation <ref>` (exit code 1 through the CLI) when the log has none. */
export const historyCommand = async (
  ref: string,
  options: HistoryOptions,
  deps: { open?: () => Promise<Context>; print?: (text: string) => void } = {},
): Promise<void> => {
  const { open = () => openContext(), print = (text: string) => console.log(text) } = deps;
  if (ref.startsWith('settings:')) return settingsHistoryCommand(ref, options, open, print);
  // A bad reference fails before the database is opened.
  const { conversationId } = resolveConversationRef(ref, conversationIdOf);
  const ctx = await open();
  try {
    if (options.at !== undefined) {
      const snapshot = await conversationAt(ctx.log, conversationId, options.at, decodeConversationEvent);
      if (snapshot.firstRecordedAt === null) throw new Error(`no conversation ${ref}`);
      print(options.json ? JSON.stringify(snapshot, null, 2) : formatSnapshot(ref, snapshot));
      return;
    }
    const entries = await conversationHistory(ctx.log, conversationId, decodeConversationEvent);
    if (entries.length === 0) throw new Error(`no conversation ${ref}`);
    print(
      options.json
        ? JSON.stringify({ conversationId, events: entries }, null, 2)
        : formatHistory(ref, conversationId, entries),
    );
  } finally {
    await ctx.close();
  }
};

/** `history settings:<kind>`: who changed which setting, when (docs/design.md, "Settings streams"). */
const settingsHistoryCommand = async (
  ref: string,
  options: HistoryOptions,
  open: () => Promise<Context>,
  print: (text: string) => void,
): Promise<void> => {
  const kind = ref.slice('settings:'.length);
  const entry = isSettingsKind(kind) ? settingsKindEntries[kind] : undefined;
  if (!entry) {
    const known = Object.keys(settingsKindEntries).map((k) => `settings:${k}`);
    throw new Error(`not a settings stream: "${ref}" (expected ${known.join(', ')})`);
  }
  if (options.at !== undefined)
    throw new Error('--at is for conversations; a settings stream lists its changes');
  const ctx = await open();
  try {
    const entries = await settingsHistory(ctx.log, entry.definition, entry.decode);
    print(
      options.json
        ? JSON.stringify({ kind, events: entries }, null, 2)
        : formatHistory(ref, '', entries, `settings ${kind}`),
    );
  } finally {
    await ctx.close();
  }
};
