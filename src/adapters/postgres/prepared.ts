// Statements the app sends many times a second, prepared once per connection: the server then skips
// parsing and planning them, which cost it about two thirds of a short statement's CPU (docs/design.md,
// "Prepared statements"). Only fixed texts whose result columns migrations alone change (a rebuild's
// new views, of the same columns, are planned afresh by the server).
import type pg from 'pg';

/** A named statement: pg prepares it on a connection the first time that connection runs it. */
export const prepared =
  (name: string, text: string) =>
  (values: readonly unknown[]): pg.QueryConfig => ({ name: `td_${name}`, text, values: values as unknown[] });
