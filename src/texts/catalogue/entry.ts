// The shape of one catalogue entry (its variables and its text per shipped language), shared by
// the catalogue's parts in this folder.

/**
 * One entry: its texts per shipped language and the variables a text may use (`{name}`). English is
 * the reference and always there; a key added without another language's text falls back to the
 * configured default language (logged once per key and language).
 */
export interface Entry {
  readonly vars: readonly string[];
  /** Variables an override must keep: without them the text says nothing useful. */
  readonly required?: readonly string[];
  /**
   * Names of variants an operator may override on their own (`client.welcome.telegram`): the
   * variant's override wins, else the key's own text serves every variant.
   */
  readonly variants?: readonly string[];
  readonly en: string;
  readonly ru?: string;
}

export const entry = (e: Entry): Entry => e;
