// A new event for tests that append to a log directly, without the domain's commands.
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../src/domain/event-log.ts';

export const newEvent = (type: string, data: unknown = {}, actor = 'test'): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata: {
    occurredAt: new Date().toISOString(),
    correlationId: randomUUID(),
    causationId: randomUUID(),
    actor: { kind: 'system', id: actor },
  },
});
