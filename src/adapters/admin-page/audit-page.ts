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
  if (/^export (?!const \w)/m.test(source))
    throw new Error('an inlined page module exports `export const` only');
  const names = [...source.matchAll(/^export const (\w+)/gm)].map((m) => m[1]!);
  return `(() => {\n${source.replace(/^export /gm, '')}\nreturn { ${names.join(', ')} };\n})()`;
};

/** The modules the page's script marks with `/* @inline <file> *\/ null`, each put in its place. */
export const PAGE_MODULES = ['report-charts.js', 'reports-view.js'] as const;

/** audit.html with each of its modules in the place its script marks (a marker left out fails). */
export const assemblePage = (page: string, modules: Record<string, string>): string => {
  let out = page;
  for (const [file, source] of Object.entries(modules)) {
    const marker = `/* @inline ${file} */ null`;
    if (!out.includes(marker)) throw new Error(`audit.html does not mark where ${file} goes`);
    out = out.replace(marker, () => inlineModule(source));
  }
  if (out.includes('/* @inline ')) throw new Error('audit.html marks a module the server does not have');
  return out;
};

const html = assemblePage(
  read('./audit.html'),
  Object.fromEntries(PAGE_MODULES.map((f) => [f, read(`./${f}`)])),
);

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
