// The port to a copy of every conversation's state that a read model keeps (a projection of the
// log), so that reading a conversation starts from that copy and the stream's short tail instead of
// the whole stream. It is never the record: the log is, and the reader checks revisions both ways.
import type { ConversationCore, ConversationMessage } from './conversation-core.ts';

export interface StoredCore {
  readonly core: ConversationCore;
  /** The revision of the last event of the conversation the copy holds. */
  readonly revision: number;
  /** Ids of the conversation's latest events, newest last (a re-delivered command is known by them). */
  readonly recentEventIds: readonly string[];
}

export interface StoredMessage {
  readonly message: ConversationMessage;
  /** The revision of the last event that changed it. */
  readonly revision: number;
}

export interface ConversationStore {
  /** The conversation's core, or undefined when the copy has none (yet). */
  core(conversationId: string): Promise<StoredCore | undefined>;
  /** The messages of `ids` the copy holds; ids it does not hold are not messages of the conversation as of its copy. */
  messages(conversationId: string, ids: readonly string[]): Promise<StoredMessage[]>;
  /** The messages of a media group (an album, a VK message's parts) the copy holds. */
  mediaGroup(conversationId: string, mediaGroupId: string): Promise<StoredMessage[]>;
  /** Reference keys (`groupKey`, `channelKey`) the copy holds → message ids. */
  refs(conversationId: string, keys: readonly string[]): Promise<ReadonlyArray<readonly [string, string]>>;
}
