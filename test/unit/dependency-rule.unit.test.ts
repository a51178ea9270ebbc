// docs/design.md, "Layers": domain ← projections ← adapters ← composition root. Inner layers never
// import outer ones.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const src = resolve(import.meta.dirname, '../../src');

const sourceFiles = async (dir: string) =>
  (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []))
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));

const importsOf = (code: string): string[] =>
  [
    ...code.matchAll(
      /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
    ),
  ].map((m) => (m[1] ?? m[2])!);

const layerOf = (file: string) => relative(src, file).split('/')[0]!;

describe('dependency rule', () => {
  it('src/domain imports nothing outside src/domain (no packages, no node: modules)', async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(join(src, 'domain'))) {
      for (const spec of importsOf(await readFile(file, 'utf8'))) {
        const inside = spec.startsWith('.') && resolve(dirname(file), spec).startsWith(join(src, 'domain'));
        if (!inside) offenders.push(`${relative(src, file)} imports ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('src/projections imports only the domain, itself and the database driver', async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(join(src, 'projections'))) {
      for (const spec of importsOf(await readFile(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue; // packages: pg for the database port, cli-free helpers
        const layer = layerOf(resolve(dirname(file), spec));
        if (layer !== 'domain' && layer !== 'projections')
          offenders.push(`${relative(src, file)} imports ${spec}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('src/adapters never imports the composition root', async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(join(src, 'adapters'))) {
      for (const spec of importsOf(await readFile(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = resolve(dirname(file), spec);
        if (layerOf(target) === 'app' || target.endsWith('main.ts') || target.endsWith('cli.ts')) {
          offenders.push(`${relative(src, file)} imports ${spec}`);
        }
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('the import scanner sees imports (a rule that cannot fail proves nothing)', () => {
    assert.deepEqual(
      importsOf(
        `import { a } from '../x.ts';\nexport type { B } from 'zod';\nconst m = await import('node:fs');`,
      ),
      ['../x.ts', 'zod', 'node:fs'],
    );
  });
});
