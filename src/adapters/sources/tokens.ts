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

export const secretMatches = (secret: string, storedHash: string): boolean => {
  const given = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
};

export const generateWebhookSecret = (): string => `whsec_${randomBytes(24).toString('base64url')}`;
