// import:tg-support-bot from start to end (docs/design.md, "Importing from tg-support-bot"): the
// sources first (so their clients' conversations have a source), then the clients page by page, each
// conversation appended on its own. Safe to run again and to resume: every step appends only what
// the log lacks. A dry run reads both sides and appends nothing.
import {
  checkWebhookUrl,
  type PrivateAddressPolicy,
  WebhookAddressError,
} from '../../adapters/webhooks/address-guard.ts';
import type { EventLog } from '../../domain/event-log.ts';
import type { Channel } from '../../domain/events.ts';
import type { SourceCompat } from '../../domain/source.ts';
import type { OldDatabase, OldLayout } from './old-database.ts';
import { type PlanOptions, planConversation, sourceCodeOf, type Unmapped } from './plan.ts';
import {
  importableToken,
  type Outcome,
  type SourceOutcome,
  type SourcePlan,
  writeConversation,
  writeSource,
} from './write.ts';

export interface ImportOptions {
  readonly old: OldDatabase;
  readonly log: EventLog;
  readonly groupChatId: string;
  readonly titleTemplate: string;
  readonly webhookPolicy: PrivateAddressPolicy;
  readonly dryRun: boolean;
  /** The dialect imported sources speak (`--compat tg-support-bot@N`), so their integrations keep working. */
  readonly compat?: SourceCompat;
  /** bot_users read at once. */
  readonly pageSize?: number;
  readonly onStart?: (info: { clients: number; layout: OldLayout }) => void;
  readonly onClient?: (done: number) => void;
}

export interface ImportReport {
  readonly layout: OldLayout;
  readonly sources: readonly SourceOutcome[];
  /** Conversations by channel and outcome. */
  readonly conversations: Readonly<Record<Channel, Readonly<Record<Outcome, number>>>>;
  /** Events appended (or, dry, to append) by type. */
  readonly events: Readonly<Record<string, number>>;
  readonly unmapped: readonly Unmapped[];
  /** Conversations left alone, and why. */
  readonly skipped: ReadonlyArray<{ readonly botUserId: string; readonly why: string }>;
}

const zero = (): Record<Outcome, number> => ({ created: 0, 'topped-up': 0, unchanged: 0, skipped: 0 });

/** Source name → code: names that are no valid code, or collide once lower-cased, get none. */
const codesOf = (names: readonly string[]): Map<string, string> => {
  const byCode = new Map<string, string[]>();
  for (const name of new Set(names)) {
    const code = sourceCodeOf(name);
    if (code) byCode.set(code, [...(byCode.get(code) ?? []), name]);
  }
  const out = new Map<string, string>();
  for (const [code, list] of byCode) if (list.length === 1) out.set(list[0]!, code);
  return out;
};

const checkedWebhook = async (
  url: string | null,
  policy: PrivateAddressPolicy,
): Promise<{ url: string | null; refused?: string }> => {
  if (!url) return { url: null };
  try {
    return { url: await checkWebhookUrl(url, policy) };
  } catch (error) {
    if (error instanceof WebhookAddressError || error instanceof TypeError)
      return { url: null, refused: error.message };
    throw error;
  }
};

export const importTgSupportBot = async (o: ImportOptions): Promise<ImportReport> => {
  const { old, log, dryRun } = o;
  const unmapped: Unmapped[] = [];
  const skipped: Array<{ botUserId: string; why: string }> = [];

  // Sources: the registered ones, and any name only a client row carries.
  const oldSources = await old.sources();
  const clientSources = await old.externalSourceNames();
  const codes = codesOf([...oldSources.map((s) => s.name), ...clientSources]);
  const sourcePlans: SourcePlan[] = [];
  for (const s of oldSources) {
    const code = codes.get(s.name);
    if (!code) {
      unmapped.push({
        table: 'external_sources',
        id: s.id,
        why: `the name "${s.name}" is no topicdesk source code (a-z, 0-9, _ and -, unique once lower-cased)`,
      });
      continue;
    }
    const webhook = await checkedWebhook(s.webhookUrl, o.webhookPolicy);
    if (webhook.refused)
      unmapped.push({
        table: 'external_sources',
        id: s.id,
        why: `webhook URL ${s.webhookUrl} refused (${webhook.refused}): the source comes over without a webhook`,
      });
    const tokens: Array<{ rowId: string; token: string }> = [];
    for (const t of s.tokens) {
      if (!t.active) {
        unmapped.push({
          table: 'external_source_access_tokens',
          id: t.id,
          why: 'inactive in tg-support-bot',
        });
        continue;
      }
      const refused = importableToken('external_source_access_tokens', t.id, t.token);
      if (refused) unmapped.push(refused);
      else tokens.push({ rowId: t.id, token: t.token });
    }
    sourcePlans.push({
      rowId: s.id,
      name: s.name,
      code,
      webhookUrl: webhook.url,
      createdAt: s.createdAt,
      tokens,
    });
  }
  const registered = new Set(oldSources.map((s) => s.name));
  for (const name of clientSources) {
    const code = codes.get(name);
    if (code && !registered.has(name))
      sourcePlans.push({ name, code, webhookUrl: null, createdAt: new Date(), tokens: [] });
  }
  const sources: SourceOutcome[] = [];
  for (const plan of sourcePlans) sources.push(await writeSource(log, plan, dryRun, o.compat));

  // Clients, page by page.
  const planOptions: PlanOptions = {
    groupChatId: o.groupChatId,
    titleTemplate: o.titleTemplate,
    sourceCodes: codes,
  };
  const conversations: Record<Channel, Record<Outcome, number>> = {
    telegram: zero(),
    vk: zero(),
    external: zero(),
  };
  const events: Record<string, number> = {};
  o.onStart?.({ clients: await old.countBotUsers(), layout: old.layout });
  let done = 0;
  for (let after = '0'; ; ) {
    const users = await old.botUsers(after, o.pageSize ?? 200);
    if (users.length === 0) break;
    after = users.at(-1)!.id;
    const messages = await old.messagesOf(users.map((u) => u.id));
    const byUser = new Map<string, typeof messages>();
    for (const m of messages)
      (byUser.get(m.botUserId) ?? byUser.set(m.botUserId, []).get(m.botUserId)!).push(m);
    for (const user of users) {
      const planned = planConversation(user, byUser.get(user.id) ?? [], planOptions);
      if (!planned.ok) {
        unmapped.push(planned.unmapped);
        const count = byUser.get(user.id)?.length ?? 0;
        if (count > 0)
          unmapped.push({
            table: 'messages',
            id: `${count} of bot_users ${user.id}`,
            why: `their client could not be imported (bot_users ${user.id})`,
          });
      } else {
        const { plan } = planned;
        unmapped.push(...plan.unmapped);
        const result = await writeConversation(log, plan, dryRun);
        conversations[plan.channel][result.outcome] += 1;
        if (result.why) skipped.push({ botUserId: user.id, why: result.why });
        for (const e of result.events) events[e.type] = (events[e.type] ?? 0) + 1;
      }
      o.onClient?.(++done);
    }
  }
  for (const m of await old.orphanMessages())
    unmapped.push({
      table: 'messages',
      id: m.id,
      why: `its client, bot_users ${m.botUserId}, does not exist`,
    });
  return { layout: old.layout, sources, conversations, events, unmapped, skipped };
};
