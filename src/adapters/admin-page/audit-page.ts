// GET /admin: the read-only audit and report page, one HTML file with its script inline (no build
// step). The Content-Security-Policy allows that one script by its hash and nothing from elsewhere.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RouteHandler } from '../http/routes.ts';

const read = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');

/**
 * A module of ours as an expression inside the page's one script: its exports become the members of
 * the object it evaluates to, its other names stay inside (docs/design.md, "The report view").
 */
export const inlineModule = (source: string): string => {
  if (/^import\b/m.test(source)) throw new Error('an inlined page module imports nothing');
  const names = [...source.matchAll(/^export const (\w+)/gm)].map((m) => m[1]!);
  return `(() => {\n${source.replace(/^export /gm, '')}\nreturn { ${names.join(', ')} };\n})()`;
};

/** audit.html with report-charts.js in the place its script marks. */
export const assemblePage = (page: string, charts: string): string => {
  const marker = '/* @inline report-charts.js */ null';
  if (!page.includes(marker)) throw new Error('audit.html does not mark where report-charts.js goes');
  return page.replace(marker, () => inlineModule(charts));
};

const html = assemblePage(read('./audit.html'), read('./report-charts.js'));

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
