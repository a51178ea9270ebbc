// docs/design.md, "Layers": domain ← projections ← adapters ← composition root. Inner layers never
// import outer ones. Within src/adapters, folders depend on one another one way only: no folder cycles.
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

const adapters = join(src, 'adapters');
/** The src/adapters folder a file is in ('.' for the files directly in src/adapters). */
const adapterFolderOf = (file: string) => {
  const parts = relative(adapters, file).split('/');
  return parts.length > 1 ? parts[0]! : '.';
};

/** Imports between different folders, as `from → to` with the files that make each edge. */
type FolderEdges = Map<string, Map<string, string[]>>;

/** Every cycle among the folders (one per strongly connected set), each edge named by its files. */
const folderCycles = (edges: FolderEdges): string[] => {
  // Tarjan's strongly connected components; a component of two or more folders holds a cycle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        component.push(w);
        if (w === v) break;
      }
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((folders) => {
    const inside = folders.flatMap((a) =>
      [...(edges.get(a) ?? [])]
        .filter(([b]) => folders.includes(b))
        .map(([b, files]) => `${a} → ${b} (${files.join(', ')})`),
    );
    return `${folders.join(' ↔ ')}: ${inside.join('; ')}`;
  });
};

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

  it('the folders of src/adapters import one another without a cycle', async () => {
    const edges: FolderEdges = new Map();
    for (const file of await sourceFiles(adapters)) {
      for (const spec of importsOf(await readFile(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = resolve(dirname(file), spec);
        if (!target.startsWith(`${adapters}/`)) continue;
        const [from, to] = [adapterFolderOf(file), adapterFolderOf(target)];
        if (from === to) continue;
        const byTarget = edges.get(from) ?? new Map<string, string[]>();
        edges.set(from, byTarget);
        byTarget.set(to, [...(byTarget.get(to) ?? []), `${relative(adapters, file)} imports ${spec}`]);
      }
    }
    assert.deepEqual(folderCycles(edges), []);
  });

  it('the cycle finder finds cycles (a rule that cannot fail proves nothing)', () => {
    const graph = (pairs: [string, string][]): FolderEdges => {
      const edges: FolderEdges = new Map();
      for (const [a, b] of pairs) edges.set(a, new Map([...(edges.get(a) ?? []), [b, [`${a}/x.ts`]]]));
      return edges;
    };
    assert.deepEqual(
      folderCycles(
        graph([
          ['http', 'telegram'],
          ['telegram', 'http'],
          ['vk', 'telegram'],
        ]),
      ),
      ['http ↔ telegram: http → telegram (http/x.ts); telegram → http (telegram/x.ts)'],
    );
    assert.deepEqual(
      folderCycles(
        graph([
          ['a', 'b'],
          ['b', 'c'],
          ['c', 'a'],
        ]),
      ).length,
      1,
    );
    assert.deepEqual(
      folderCycles(
        graph([
          ['a', 'b'],
          ['b', 'c'],
          ['a', 'c'],
        ]),
      ),
      [],
    );
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
