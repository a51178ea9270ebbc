// Caps on requests in progress at once (uploads, long polls): per token and in all, in memory.
// Like the rate limit, each instance counts its own, so N instances admit up to N times the caps.

export interface InFlightLimits {
  /** Requests of one key (a token) in progress at once. */
  readonly perKey: number;
  /** Requests of all keys in progress at once. */
  readonly total: number;
}

/** Why a slot was refused: the key's own cap or everyone's. */
export type InFlightRefusal = 'key' | 'total';

export interface InFlight {
  readonly limits: InFlightLimits;
  /** A slot for `key`, or why there is none; `release` may be called more than once. */
  take(key: string): { readonly release: () => void } | { readonly refused: InFlightRefusal };
  /** Slots held now, in all. */
  held(): number;
}

export const createInFlight = (limits: InFlightLimits): InFlight => {
  const byKey = new Map<string, number>();
  let total = 0;
  return {
    limits,
    take(key) {
      const mine = byKey.get(key) ?? 0;
      if (mine >= limits.perKey) return { refused: 'key' };
      if (total >= limits.total) return { refused: 'total' };
      byKey.set(key, mine + 1);
      total += 1;
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          total -= 1;
          const left = (byKey.get(key) ?? 1) - 1;
          if (left > 0) byKey.set(key, left);
          else byKey.delete(key);
        },
      };
    },
    held: () => total,
  };
};
