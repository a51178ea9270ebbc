// The design the code follows lives in this repository: comments point into docs/design.md (or the
// README) by the file's name, a comma and the section's heading in double quotes, and those headings
// must exist. Nothing points to a document
// outside the repository, and the Markdown links between our documents land on real headings.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../..');

/** Where code, scripts and deployment files live (documents are checked by their links). */
const SCANNED_DIRS = ['src', 'test', 'scripts', 'bench', 'bin', 'deploy', 'openapi', '.github', '.ci'];
const SCANNED_FILES = ['docker-compose.yml', 'Dockerfile', '.env.example', 'package.json'];
const DOCUMENTS = ['README.md', 'docs/design.md', 'bench/README.md'];

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : filesUnder(path);
    return e.isFile() && !e.name.endsWith('.md') && !e.name.endsWith('package-lock.json') ? [path] : [];
  });

const scannedFiles = (): string[] => [
  ...SCANNED_DIRS.map((d) => join(root, d))
    .filter(existsSync)
    .flatMap(filesUnder),
  ...SCANNED_FILES.map((f) => join(root, f)).filter(existsSync),
];

// ---- headings and anchors ------------------------------------------------------------------------

/** The headings of a Markdown text, outside fenced code blocks. */
export const headingsOf = (markdown: string): string[] => {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced) {
      const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
      if (m) out.push(m[1]!);
    }
  }
  return out;
};

/** GitHub's anchors: lower case, punctuation dropped, spaces as hyphens; repeats get -1, -2 … */
export const anchorsOf = (headings: readonly string[]): Set<string> => {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const heading of headings) {
    const base = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
};

const documentHeadings = new Map<string, string[]>();
const headingsOfDocument = (path: string): string[] => {
  let headings = documentHeadings.get(path);
  if (!headings) {
    headings = existsSync(join(root, path)) ? headingsOf(readFileSync(join(root, path), 'utf8')) : [];
    documentHeadings.set(path, headings);
  }
  return headings;
};

// ---- what a file may say -------------------------------------------------------------------------

// Written so that this file does not match its own patterns: the name of the outside document, a
// path into the directory it lives in beside the repository, an old-style pointer with a colon.
const OUTSIDE = [
  { pattern: /\bS[P]EC\b/, why: 'names a specification that is not in this repository' },
  { pattern: /(?:^|[^\w.])(?:\.\.\/)+s[h]ared\//, why: 'points into a directory beside the repository' },
];
const LOOSE_POINTER = /\b(?:README|docs\/design)(?:\.md)?(?:[:,] [^"\s]| \([A-Z])/;
/** A document's name, a comma, a heading in double quotes; possibly wrapped over comment lines. */
const POINTER = /\b(docs\/design\.md|README\.md|bench\/README\.md), "([^"\n]+)"/g;

/** A pointer as comments write it (built here, so this file's own text holds none). */
const pointer = (document: string, heading: string) => `${document}, "${heading}"`;

/** Comment continuations joined, so a pointer wrapped over two comment lines reads as one. */
const joinComments = (text: string) => text.replace(/\n[ \t]*(?:\/\/+|\*|#)[ \t]*/g, ' ');

/** What is wrong with what `file` (relative to the repository) says, one line each. */
export const problemsIn = (file: string, text: string): string[] => {
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const { pattern, why } of OUTSIDE) {
      if (pattern.test(line)) problems.push(`${file}:${i + 1} ${why}: ${line.trim()}`);
    }
    if (LOOSE_POINTER.test(line)) {
      problems.push(
        `${file}:${i + 1} points loosely (write ${pointer('docs/design.md', '…')}): ${line.trim()}`,
      );
    }
    for (const m of line.matchAll(/(?:\.\.\/)+[\w.-][\w./-]*/g)) {
      const target = resolve(root, dirname(file), m[0]);
      if (relative(root, target).startsWith('..')) {
        problems.push(`${file}:${i + 1} points outside the repository: ${m[0]}`);
      }
    }
  });
  for (const m of joinComments(text).matchAll(POINTER)) {
    const [, document, heading] = m as unknown as [string, string, string];
    if (!headingsOfDocument(document).includes(heading)) {
      problems.push(`${file} points to ${pointer(document, heading)}, which has no such heading`);
    }
  }
  return problems;
};

/** Markdown links to our own documents whose file or heading is missing. */
export const brokenLinksIn = (document: string, markdown: string): string[] => {
  const problems: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    // Inline code shows links, it does not make them.
    for (const m of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]*)\)/g)) {
      const link = m[1]!;
      if (/^[a-z]+:/i.test(link)) continue; // https:, mailto:
      const [path = '', anchor] = link.split('#');
      const target = path === '' ? document : relative(root, resolve(root, dirname(document), path));
      if (target.startsWith('..')) {
        problems.push(`${document}: ${link} points outside the repository`);
        continue;
      }
      if (!existsSync(join(root, target))) {
        problems.push(`${document}: ${link}: no file ${target}`);
        continue;
      }
      if (anchor === undefined || statSync(join(root, target)).isDirectory()) continue;
      if (!anchorsOf(headingsOfDocument(target)).has(anchor)) {
        problems.push(`${document}: ${link}: ${target} has no heading with the anchor #${anchor}`);
      }
    }
  }
  return problems;
};

describe('documentation pointers', () => {
  it('no source, script or deployment file points outside the repository or to a missing heading', () => {
    const problems = scannedFiles().flatMap((path) =>
      problemsIn(relative(root, path), readFileSync(path, 'utf8')),
    );
    assert.deepEqual(problems, []);
  });

  it('the links between our documents land on files and headings that exist', () => {
    const problems = DOCUMENTS.filter((d) => existsSync(join(root, d))).flatMap((d) =>
      brokenLinksIn(d, readFileSync(join(root, d), 'utf8')),
    );
    assert.deepEqual(problems, []);
  });

  it('the checks see what they look for (a check that cannot fail proves nothing)', () => {
    const headings = headingsOfDocument('docs/design.md');
    assert.ok(headings.length > 10, 'docs/design.md has its sections');
    const real = headings[1]!;
    const says = (text: string) => problemsIn('src/x.ts', text);
    assert.deepEqual(says(`// ${pointer('docs/design.md', real)}`), []);
    assert.equal(says(`// ${pointer('docs/design.md', 'No such heading')}`).length, 1);
    assert.equal(says(`// ${pointer('README.md', 'No such heading')}`).length, 1);
    const wrapped = pointer('docs/design.md', real).replace(', ', ',\n// ');
    assert.equal(says(`// why (${wrapped})`).length, 0, 'a wrapped pointer is read whole');
    assert.equal(says(`// ${'SP'}EC §3: the ids`).length, 1);
    assert.equal(says(`// see ${'..'}/shared/notes.md`).length, 1, 'beside the repository');
    assert.equal(says(`// see ../../${'..'}/elsewhere.md`).length, 1, 'above the repository');
    assert.equal(says("import { x } from '../domain/events.ts';").length, 0);
    assert.equal(says(`// ${'READ'}ME: Deploy`).length, 1, 'a loose pointer');
    assert.deepEqual(
      [...anchorsOf(['Design notes: one leader per lock', "topicdesk's design", 'A — b', 'A — b'])],
      ['design-notes-one-leader-per-lock', 'topicdesks-design', 'a--b', 'a--b-1'],
    );
    assert.equal(brokenLinksIn('README.md', '[x](docs/design.md#no-such-anchor)').length, 1);
    assert.equal(brokenLinksIn('README.md', '[x](#no-such-anchor)').length, 1);
    assert.equal(brokenLinksIn('README.md', '[x](nowhere.md)').length, 1);
    assert.deepEqual(brokenLinksIn('README.md', '[x](https://example.com/#a) `[y](#z)`'), []);
  });
});
