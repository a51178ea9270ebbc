// Batched writes shared by the read models: load the rows a batch touches in one query, change them
// in memory in log order, write them back in one upsert guarded by stream revision (so applying an
// event twice can never move a row backwards).
import type { BatchContext } from '../projection.ts';

export interface Column {
  readonly name: string;
  readonly type: string;
}

/**
 * Queues the upsert of `rows` on the batch (BatchContext.write). `insertOnly`: rows the batch created
 * without looking (none can exist yet): a row that does exist is left as it is.
 */
export const upsertRows = (
  ctx: Pick<BatchContext, 'write'>,
  table: string,
  columns: readonly Column[],
  key: readonly string[],
  rows: readonly Record<string, unknown>[],
  options: { readonly insertOnly?: boolean } = {},
): void => {
  if (rows.length === 0) return;
  const names = columns.map((c) => c.name);
  const updates = names.filter((n) => !key.includes(n)).map((n) => `${n} = excluded.${n}`);
  ctx.write(
    `INSERT INTO ${table} AS t (${names.join(', ')})
     SELECT ${names.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS r(${columns.map((c) => `${c.name} ${c.type}`).join(', ')})
     ON CONFLICT (${key.join(', ')}) ${
       options.insertOnly
         ? 'DO NOTHING'
         : `DO UPDATE SET ${updates.join(', ')}
     WHERE t.revision < excluded.revision`
     }`,
    [JSON.stringify(rows)],
  );
};

/** Strips the `conversation-` prefix; undefined for streams that are not conversations. */
export const conversationIdOfStream = (stream: string): string | undefined =>
  stream.startsWith('conversation-') ? stream.slice('conversation-'.length) : undefined;
