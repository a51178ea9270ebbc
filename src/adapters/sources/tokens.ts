// API tokens: `td_<tokenId>_<secret>`. The id finds the record; only the secret's SHA-256 is stored,
// and it is compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface NewToken {
  readonly tokenId: string;
  readonly hash: string;
  /** Shown once, never stored. */
  readonly token: string;
}

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export const generateToken = (): NewToken => {
  const tokenId = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { tokenId, hash: hashSecret(secret), token: `td_${tokenId}_${secret}` };
};

export const parseToken = (token: string): { tokenId: string; secret: string } | undefined => {
  const m = /^td_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(token);
  return m ? { tokenId: m[1]!, secret: m[2]! } : undefined;
};

/**
 * A token another tool issued in plain text and an import recorded (docs/design.md, "Importing from
 * tg-support-bot"): letters and digits only, so never a `td_` token. Its id is derived from it, and
 * only the SHA-256 of the whole token is stored, like a secret.
 */
export const parseImportedToken = (token: string): { tokenId: string; secret: string } | undefined =>
  /^[A-Za-z0-9]{16,128}$/.test(token) ? { tokenId: importedTokenId(token), secret: token } : undefined;

/** 12 hex digits like a drawn token id, from a hash that is not the stored one. */
export const importedTokenId = (token: string): string =>
  createHash('sha256').update(`imported-token-id:${token}`).digest('hex').slice(0, 12);

export const secretMatches = (secret: string, storedHash: string): boolean => {
  const given = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
};

export const generateWebhookSecret = (): string => `whsec_${randomBytes(24).toString('base64url')}`;
