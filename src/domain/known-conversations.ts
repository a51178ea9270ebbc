// The conversations a process has seen exist, as a Bloom filter of fixed size: "no" is certain, "maybe"
// is not. The reader presumes a conversation it has never seen to be new, so a client's first message
// skips the read of a stream that is not there (docs/design.md, "A conversation presumed new").

/** Bits of the filter: 2^24 (2 MiB). A false "maybe": about 1 in 1,600 at a million known, 1 in 10 at three million. */
const BITS = 2 ** 24;
/** Bits set per conversation: the best count for about 1.7 million conversations in 2^24 bits. */
const HASHES = 7;

/** FNV-1a over the id's UTF-16 code units, from `seed`: two seeds give the two hashes a Bloom filter mixes. */
const fnv1a = (id: string, seed: number): number => {
  let h = seed;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
};

export interface KnownConversations {
  /** Remembers that the conversation exists. */
  add(conversationId: string): void;
  /** False: this process has never been told of it. True: it has, or another id shares its bits. */
  mayExist(conversationId: string): boolean;
  /** Forgets every conversation (there is no forgetting one: its bits are shared). */
  clear(): void;
}

export const createKnownConversations = (): KnownConversations => {
  const filter = new Uint8Array(BITS / 8);
  const each = (id: string, visit: (bit: number) => boolean): boolean => {
    const h1 = fnv1a(id, 0x811c9dc5);
    const h2 = (fnv1a(id, 0x050c5d1f) | 1) >>> 0; // odd, so the steps cover every bit
    for (let i = 0; i < HASHES; i++) if (!visit((h1 + i * h2) % BITS)) return false;
    return true;
  };
  return {
    add(id) {
      each(id, (bit) => {
        filter[bit >>> 3]! |= 1 << (bit & 7);
        return true;
      });
    },
    mayExist: (id) => each(id, (bit) => (filter[bit >>> 3]! & (1 << (bit & 7))) !== 0),
    clear: () => filter.fill(0),
  };
};
