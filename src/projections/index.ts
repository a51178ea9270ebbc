// The projections topicdesk runs, and the schema they share.
import type { Projection } from './projection.ts';
import { conversationStateProjection } from './read-models/conversation-state.ts';
import { conversationsProjection } from './read-models/conversations.ts';
import { messagesProjection } from './read-models/messages.ts';
import { reportsProjection } from './read-models/reports.ts';
import { sourcesProjection } from './read-models/sources.ts';

export { reactorMigration } from './reactor-runner.ts';
export { registryMigrations } from './registry.ts';

export const allProjections: readonly Projection[] = [
  conversationsProjection,
  messagesProjection,
  sourcesProjection,
  conversationStateProjection,
  reportsProjection,
];

export const projectionByName = (name: string): Projection | undefined =>
  allProjections.find((p) => p.name === name);
