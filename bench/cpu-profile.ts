// A CPU profile of this process while `fn` runs (the inspector's sampling profiler), remapped to the
// TypeScript sources: `bench -- growth --growth-profile=DIR` and `bench -- api --api-profile=DIR`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { type CpuProfile, remapProfile } from './profile-summary.ts';

export const withCpuProfile = async <T>(
  dir: string,
  name: string,
  fn: () => Promise<T>,
): Promise<{ value: T; profile: CpuProfile; file: string }> => {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  const value = await fn();
  const { profile: raw } = await session.post('Profiler.stop');
  // The compiled text of every script, for its inline source map (see remapProfile).
  const scripts = new Map<string, string>();
  session.on('Debugger.scriptParsed', (m) => scripts.set(m.params.url, m.params.scriptId));
  await session.post('Debugger.enable');
  const compiled = new Map<string, string>();
  for (const url of new Set(raw.nodes.map((n) => n.callFrame.url))) {
    const scriptId = scripts.get(url);
    if (scriptId && url.startsWith('file://') && !url.includes('/node_modules/'))
      compiled.set(url, (await session.post('Debugger.getScriptSource', { scriptId })).scriptSource);
  }
  await session.post('Debugger.disable');
  session.disconnect();
  const profile = remapProfile(raw as unknown as CpuProfile, (url) => compiled.get(url));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  return { value, profile, file };
};
