// Where a V8 CPU profile's time went, by function: self time (samples in the function itself) and
// total time (samples with the function anywhere on the stack, counted once however often it
// recurses), as shares of the profile's whole span. `bench -- growth --growth-profile=DIR` prints
// it for the profile it takes; on its own it reads any .cpuprofile (node --cpu-prof, DevTools):
//
//   node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top=N] [--only=src/]
//
// tsx compiles each .ts file to one line of JavaScript (minifyWhitespace) and wraps every function in
// a naming helper (keepNames), so V8 reports our functions nameless at line 1. remapProfile puts the
// TypeScript line back through the compiled file's inline source map, and takes the name from it.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

export interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number;
    readonly callFrame: CallFrame;
    readonly children?: readonly number[];
  }>;
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface FunctionTime {
  readonly name: string;
  /** `path:line` relative to the repository (node_modules/… and node:… as they are). */
  readonly where: string;
  readonly selfMs: number;
  readonly totalMs: number;
}

export interface ProfileSummary {
  readonly spanMs: number;
  readonly functions: readonly FunctionTime[];
  /** Self time by file. */
  readonly files: ReadonlyArray<{ readonly file: string; readonly selfMs: number }>;
}

const root = fileURLToPath(new URL('..', import.meta.url));

const shortFile = (url: string): string => {
  let path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + 1);
  if (path.startsWith(root)) path = path.slice(root.length);
  return path;
};

export const summarizeProfile = (profile: CpuProfile): ProfileSummary => {
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = new Map<number, string>();
  const info = new Map<string, { name: string; where: string; file: string }>();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const file = f.url ? shortFile(f.url) : '';
    const where = file ? `${file}:${f.lineNumber + 1}` : '';
    const name = f.functionName || (file ? '(anonymous)' : '(native)');
    const key = `${name}\t${where}`;
    keyOf.set(n.id, key);
    info.set(key, { name, where, file });
  }
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const spanMs = (profile.endTime - profile.startTime) / 1000;
  const average = samples.length > 0 ? spanMs / samples.length : 0;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const fileSelf = new Map<string, number>();
  for (let i = 0; i < samples.length; i++) {
    // A sample stands for the time until the next one.
    const ms = i + 1 < deltas.length ? deltas[i + 1]! / 1000 : average;
    const id = samples[i]!;
    const key = keyOf.get(id)!;
    self.set(key, (self.get(key) ?? 0) + ms);
    const file = info.get(key)!.file || info.get(key)!.name;
    fileSelf.set(file, (fileSelf.get(file) ?? 0) + ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (!byId.has(at)) break;
      const k = keyOf.get(at)!;
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + ms);
    }
  }
  const functions = [...info.entries()].map(([key, i]) => ({
    name: i.name,
    where: i.where,
    selfMs: self.get(key) ?? 0,
    totalMs: total.get(key) ?? 0,
  }));
  const files = [...fileSelf.entries()]
    .map(([file, selfMs]) => ({ file, selfMs }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { spanMs, functions, files };
};

const inlineMap = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

/** `const name = (…) =>`, `function name(`, `name(…) {`, `name: (…) =>`: the name in front of `column`. */
const nameBefore = (line: string, column: number): string | undefined => {
  // The position is the function's first parameter (or its opening parenthesis): drop `(`, `<T>`.
  const head = line
    .slice(0, column)
    .replace(/\s*\($/, '')
    .replace(/\s*<[^<>=]*>$/, '')
    .trimEnd();
  const assigned = /([A-Za-z_$][\w$]*)\s*(?::[^=]*)?[=:]\s*(?:async\s*)?(?:function\s*\*?\s*)?$/.exec(head);
  if (assigned) return assigned[1];
  const declared = /(?:function\s*\*?|async)\s+([A-Za-z_$][\w$]*)\s*$/.exec(head);
  if (declared) return declared[1];
  return /([A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\s*\($/.exec(line.slice(0, column + 1).trimEnd())?.[1];
};

/**
 * The profile with the call frames of compiled files (those whose compiled text `compiledOf` gives,
 * with an inline source map) moved to their TypeScript line and column, and named from the source.
 */
export const remapProfile = (
  profile: CpuProfile,
  compiledOf: (url: string) => string | undefined,
): CpuProfile => {
  const maps = new Map<string, { map: SourceMap; lines: string[] } | null>();
  const mapOf = (url: string) => {
    if (!maps.has(url)) {
      const payload = inlineMap.exec(compiledOf(url) ?? '')?.[1];
      let entry: { map: SourceMap; lines: string[] } | null = null;
      try {
        if (payload && url.startsWith('file://'))
          entry = {
            map: new SourceMap(JSON.parse(Buffer.from(payload, 'base64').toString('utf8'))),
            lines: readFileSync(fileURLToPath(url), 'utf8').split('\n'),
          };
      } catch {
        entry = null;
      }
      maps.set(url, entry);
    }
    return maps.get(url) ?? undefined;
  };
  return {
    ...profile,
    nodes: profile.nodes.map((n) => {
      const f = n.callFrame;
      const m = f.url ? mapOf(f.url) : undefined;
      if (!m) return n;
      const found = m.map.findEntry(f.lineNumber, f.columnNumber) as {
        originalLine?: number;
        originalColumn?: number;
        name?: string;
      };
      if (found.originalLine === undefined) return n;
      const line = m.lines[found.originalLine] ?? '';
      const name =
        f.functionName || found.name || nameBefore(line, found.originalColumn ?? 0) || '(anonymous)';
      return {
        ...n,
        callFrame: {
          ...f,
          functionName: name,
          lineNumber: found.originalLine,
          columnNumber: found.originalColumn ?? 0,
        },
      };
    }),
  };
};

const pct = (ms: number, span: number) => `${((ms / span) * 100).toFixed(1)} %`;

/** The top `top` functions by self and by total time (those whose file starts with `only`, if given). */
export const formatSummary = (s: ProfileSummary, options: { top?: number; only?: string } = {}): string => {
  const top = options.top ?? 15;
  const only = options.only;
  const shown = s.functions.filter((f) => (only ? f.where.startsWith(only) : f.name !== '(root)'));
  const line = (f: FunctionTime) =>
    `| ${pct(f.selfMs, s.spanMs).padStart(7)} | ${pct(f.totalMs, s.spanMs).padStart(7)} | ${f.name} | ${f.where} |`;
  const head = '|    self |   total | function | where |\n|--------:|--------:|----------|-------|';
  const bySelf = [...shown].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
  const byTotal = [...shown]
    .filter((f) => f.where !== '')
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, top);
  const files = s.files
    .filter((f) => (only ? f.file.startsWith(only) : true))
    .slice(0, top)
    .map((f) => `| ${pct(f.selfMs, s.spanMs).padStart(7)} | ${f.file} |`);
  const scope = only ? ` (functions in ${only}…)` : '';
  return [
    `profile span ${(s.spanMs / 1000).toFixed(1)} s; shares of the span${scope}`,
    '',
    `top ${top} by self time:`,
    head,
    ...bySelf.map(line),
    '',
    `top ${top} by total time (the function and what it called):`,
    head,
    ...byTotal.map(line),
    '',
    `self time by file${scope}:`,
    '|    self | file |\n|--------:|------|',
    ...files,
  ].join('\n');
};

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const files = args.filter((a) => !a.startsWith('--'));
  const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 15);
  const only = args.find((a) => a.startsWith('--only='))?.slice(7);
  if (files.length === 0) {
    console.error(
      'usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top=N] [--only=src/]',
    );
    process.exit(2);
  }
  for (const file of files) {
    const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    console.log(`\n## ${file}\n`);
    console.log(formatSummary(summary, { top, ...(only ? { only } : {}) }));
  }
}
