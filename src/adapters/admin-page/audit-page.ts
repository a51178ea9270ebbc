// GET /admin: the read-only audit page, one HTML file with its script inline (no build step). The
// Content-Security-Policy allows that one script by its hash and nothing from elsewhere.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RouteHandler } from '../http/routes.ts';

const html = readFileSync(new URL('./audit.html', import.meta.url), 'utf8');

const scriptHash = (page: string): string => {
  const script = /<script>([\s\S]*?)<\/script>/.exec(page)?.[1];
  if (script === undefined) throw new Error('audit.html has no inline script');
  return `'sha256-${createHash('sha256').update(script).digest('base64')}'`;
};

const policy = [
  "default-src 'none'",
  `script-src ${scriptHash(html)}`,
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const auditPage: RouteHandler = async (_request, reply) =>
  reply
    .type('text/html; charset=utf-8')
    .header('Content-Security-Policy', policy)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Referrer-Policy', 'no-referrer')
    .header('Cache-Control', 'no-cache')
    .send(html);
