// `/take`, `/assign` and `/unassign` in a topic (docs/design.md, "Assignment"): whom the manager
// means, whether that person is in the support group, and what the bot answers in the topic.
import type { Message, User } from 'grammy/types';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { ConversationCommand } from '../../domain/conversation-commands.ts';
import { DomainError } from '../../domain/errors.ts';
import type { Actor } from '../../domain/events.ts';
import type { Texts } from '../../texts/texts.ts';
import { type KnownMember, type MemberDirectory, memberName } from './members.ts';

export type AssignmentCommandName = 'take' | 'assign' | 'unassign';

export interface AssignmentDeps {
  readonly handler: CommandHandler;
  readonly texts: Texts;
  /** Who wrote under which @username; without it only a reply or a picked mention names a member. */
  readonly members?: MemberDirectory;
  /** Whether a user is in the support group now (getChatMember). */
  readonly isMember: (userId: number) => Promise<boolean>;
}

export interface AssignmentRequest {
  readonly command: AssignmentCommandName;
  readonly message: Message;
  readonly args: string;
  readonly conversationId: string;
  readonly commandId: string;
  readonly actor: Actor;
  readonly at: Date;
}

export interface AssignmentOutcome {
  readonly outcome: 'recorded' | 'duplicate' | 'ignored';
  /** What the bot answers in the topic; absent for a re-delivered update (answered the first time). */
  readonly say?: string;
}

const USERNAME = /^@([A-Za-z0-9_]{4,32})$/;

type Target = KnownMember | { readonly unknown: string } | undefined;

const person = (user: User): KnownMember => ({ id: user.id, name: memberName(user) });

/**
 * Whom `/assign` names: a mention picked from Telegram's list (a user without a username comes as a
 * text_mention that carries the user), else `@username` as the directory knows it, else the author
 * of the message the command replies to (not the topic's own start, not the bot's copy).
 */
const targetOf = async (deps: AssignmentDeps, m: Message, args: string): Promise<Target> => {
  for (const e of m.entities ?? []) if (e.type === 'text_mention' && !e.user.is_bot) return person(e.user);
  const first = args.split(/\s+/, 1)[0] ?? '';
  const username = USERNAME.exec(first)?.[1];
  if (username !== undefined)
    return (await deps.members?.byUsername(username)) ?? { unknown: `@${username}` };
  const replied = m.reply_to_message;
  if (replied && replied.message_id !== m.message_thread_id && replied.from && !replied.from.is_bot)
    return person(replied.from);
  return undefined;
};

const run = async (deps: AssignmentDeps, r: AssignmentRequest, command: ConversationCommand) =>
  deps.handler.execute(r.conversationId, command, {
    commandId: r.commandId,
    actor: r.actor,
    occurredAt: r.at.toISOString(),
  });

const assign = async (deps: AssignmentDeps, r: AssignmentRequest, who: KnownMember) => {
  const result = await run(deps, r, {
    type: 'AssignConversation',
    assigneeId: String(who.id),
    assigneeName: who.name,
  });
  if (result.alreadyHandled) return { outcome: 'duplicate' } as const;
  if (result.events.length > 0)
    return {
      outcome: 'recorded',
      say: await deps.texts.topic('topic.assigned', { assignee: who.name }),
    } as const;
  return {
    outcome: 'ignored',
    say: await deps.texts.topic('topic.already_assigned', {
      assignee: result.state.assignee?.name ?? who.name,
    }),
  } as const;
};

const unassign = async (deps: AssignmentDeps, r: AssignmentRequest): Promise<AssignmentOutcome> => {
  const result = await run(deps, r, { type: 'UnassignConversation' });
  if (result.alreadyHandled) return { outcome: 'duplicate' };
  const event = result.events[0];
  const previous = event?.type === 'ConversationUnassigned' ? event.data.previousAssigneeName : '';
  return { outcome: 'recorded', say: await deps.texts.topic('topic.unassigned', { assignee: previous }) };
};

/** Runs one of the commands; refusals come back as the words the manager is answered with. */
export const runAssignment = async (
  deps: AssignmentDeps,
  r: AssignmentRequest,
  usage: () => Promise<string>,
): Promise<AssignmentOutcome> => {
  const { texts } = deps;
  try {
    switch (r.command) {
      case 'take':
        return await assign(deps, r, { id: Number(r.actor.id), name: r.actor.name ?? 'manager' });
      case 'assign': {
        const target = await targetOf(deps, r.message, r.args);
        if (target === undefined) return { outcome: 'ignored', say: await usage() };
        if ('unknown' in target || !(await deps.isMember(target.id)))
          return {
            outcome: 'ignored',
            say: await texts.topic('topic.assign_unknown', {
              username: 'unknown' in target ? target.unknown : target.name,
            }),
          };
        return await assign(deps, r, target);
      }
      case 'unassign':
        return await unassign(deps, r);
      default: {
        const never: never = r.command;
        return never;
      }
    }
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return {
      outcome: 'ignored',
      say:
        error.code === 'not_assigned'
          ? await texts.topic('topic.not_assigned')
          : await texts.topic('topic.command.not_done', { reason: error.message }),
    };
  }
};
