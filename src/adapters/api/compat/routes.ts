// The one place that decides, per request, which dialect answers: a source that speaks one gets
// its handler for the operation, every other source topicdesk's own (docs/design.md, "Speaking
// tg-support-bot's dialect").
import type { DialectPicker } from '../external/route.ts';
import { rulesOf } from './dialect.ts';
import { DIALECT_HANDLERS, listCompat } from './handlers.ts';

/** The picker for one operation (by its operationId in openapi/openapi.yaml). */
export const pickDialect =
  (operationId: string): DialectPicker =>
  (source, own) => {
    if (!source.compat) return own;
    // 3.x lists at /api/external/messages (the client in the query); later versions keep the feed.
    if (operationId === 'listSourceMessages') return rulesOf(source.compat).clientInPath ? own : listCompat;
    return DIALECT_HANDLERS[operationId] ?? own;
  };
