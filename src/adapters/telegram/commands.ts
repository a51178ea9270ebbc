// The managers' commands in a topic, in one table: what a topic message that starts with a slash
// (or the note prefix) means, and the help list the bot answers a mistyped command with
// (docs/design.md, "Notes and saved answers"). Pure: no I/O.
import type { Message, MessageEntity } from 'grammy/types';
import type { TextKey } from '../../texts/catalogue.ts';

/** A topic text from the catalogue (with the operators' overrides), in the managers' language. */
export type TopicText = (key: TextKey, vars?: Readonly<Record<string, string | number>>) => Promise<string>;

/** Each command with its line in the help list, in the order the list shows them. */
export const MANAGER_COMMANDS = {
  note: 'topic.help.note',
  send: 'topic.help.send',
  t: 'topic.help.t',
  pin: 'topic.help.pin',
  unpin: 'topic.help.unpin',
  info: 'topic.help.info',
  take: 'topic.help.take',
  assign: 'topic.help.assign',
  unassign: 'topic.help.unassign',
  waiting: 'topic.help.waiting',
  close: 'topic.help.close',
  reopen: 'topic.help.reopen',
  ban: 'topic.help.ban',
  unban: 'topic.help.unban',
  delete: 'topic.help.delete',
} as const satisfies Record<string, TextKey>;

export type ManagerCommandName = keyof typeof MANAGER_COMMANDS;
export const managerCommandNames = Object.keys(MANAGER_COMMANDS) as ManagerCommandName[];

const isManagerCommand = (name: string): name is ManagerCommandName => Object.hasOwn(MANAGER_COMMANDS, name);

/** What a text message in a topic is, before anything is sent. */
export type TopicInput =
  /** A known command; `args` is the text after it (trimmed), starting at `argsOffset` of the text. */
  | {
      readonly kind: 'command';
      readonly command: ManagerCommandName;
      readonly args: string;
      readonly argsOffset: number;
    }
  /** A message starting with the note prefix: the note is the rest. */
  | { readonly kind: 'note'; readonly text: string }
  /** Starts with a slash but names no command of ours: never sent to the client. */
  | { readonly kind: 'unknown'; readonly command: string }
  /** A command addressed to another bot (`/start@other_bot`): not ours, and not for the client. */
  | { readonly kind: 'other-bot' }
  /** Anything else: an answer to the client. */
  | { readonly kind: 'answer' };

/**
 * Reads a topic message's text. A leading slash always makes it a command — known, another bot's,
 * or unknown (a typo like `/clsoe` must not reach the client) — whatever entities Telegram attached:
 * `/закрыть` has none and is still not an answer. `notePrefix` ('' turns it off) makes a note.
 * Captions are not read: a file is always an answer.
 */
export const readTopicInput = (message: Message, botUsername: string, notePrefix: string): TopicInput => {
  const text = message.text;
  if (text === undefined) return { kind: 'answer' };
  if (notePrefix !== '' && text.startsWith(notePrefix))
    return { kind: 'note', text: text.slice(notePrefix.length).trim() };
  if (!text.startsWith('/')) return { kind: 'answer' };
  const token = /^\/(\S*)/.exec(text)![1]!;
  const [name = '', addressee] = token.split('@', 2);
  if (addressee !== undefined && addressee.toLowerCase() !== botUsername.replace(/^@+/, '').toLowerCase()) {
    return { kind: 'other-bot' };
  }
  const command = name.toLowerCase();
  if (!isManagerCommand(command)) return { kind: 'unknown', command: `/${name}` };
  const rest = text.slice(token.length + 1);
  const args = rest.trim();
  const argsOffset = args === '' ? text.length : token.length + 1 + rest.indexOf(args);
  return { kind: 'command', command, args, argsOffset };
};

/**
 * The entities within `length` characters from `offset`, moved to start at 0: the formatting of what
 * follows a command (`/send *bold*`), without the command. An entity cut at either end keeps its part.
 */
export const entitiesFrom = (
  entities: readonly MessageEntity[] | undefined,
  offset: number,
  length: number,
): MessageEntity[] | undefined => {
  const end = offset + length;
  const moved = (entities ?? [])
    .filter((e) => e.type !== 'bot_command' && e.offset + e.length > offset && e.offset < end)
    .map((e) => {
      const start = Math.max(e.offset, offset);
      const stop = Math.min(e.offset + e.length, end);
      return { ...e, offset: start - offset, length: stop - start } as MessageEntity;
    });
  return moved.length > 0 ? moved : undefined;
};

/** One command's line of the help list (`/note <text> — …`), for usage hints. */
export const commandLine = (text: TopicText, name: ManagerCommandName): Promise<string> =>
  text(MANAGER_COMMANDS[name], { command: `/${name}` });

/** The help list: one line per command, and the note prefix when it is on. */
export const commandList = async (text: TopicText, notePrefix: string): Promise<string> =>
  (
    await Promise.all([
      ...managerCommandNames.map((name) => commandLine(text, name)),
      ...(notePrefix === '' ? [] : [text('topic.note_prefix_help', { prefix: notePrefix })]),
    ])
  ).join('\n');
