// projections:status and projections:rebuild [name|--all]
import cliProgress from 'cli-progress';
import { sqlDatabase } from '../../adapters/postgres/sql.ts';
import { allProjections, projectionByName } from '../../projections/index.ts';
import type { Projection } from '../../projections/projection.ts';
import { rebuildProjection } from '../../projections/rebuild.ts';
import { projectionStatus } from '../../projections/status.ts';
import { type Context, logSizeEstimate } from '../context.ts';

export const printProjectionStatus = async (ctx: Context, json: boolean): Promise<void> => {
  const rows = await projectionStatus(sqlDatabase(ctx.db.pool), ctx.log);
  if (json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  if (rows.length === 0) {
    console.log(
      'no projection has run yet (they start with the service, or build with projections:rebuild --all)',
    );
    return;
  }
  console.table(
    rows.map((r) => ({
      projection: r.name,
      generation: r.generation,
      version:
        r.codeVersion !== null && r.codeVersion !== r.version && r.status === 'active'
          ? `${r.version} (code ${r.codeVersion}: rebuild)`
          : r.version,
      status: r.status,
      checkpoint: r.checkpoint ?? 'start',
      head: r.head ?? 'empty log',
      lag: `${r.lag}${r.lagCapped ? '+' : ''} events`,
      applied: r.eventsApplied,
      updated: r.updatedAt,
    })),
  );
};

export const rebuildProjections = async (
  ctx: Context,
  target: { name?: string; all?: boolean },
): Promise<void> => {
  let projections: readonly Projection[];
  if (target.all) projections = allProjections;
  else if (target.name) {
    const p = projectionByName(target.name);
    if (!p)
      throw new Error(
        `no projection "${target.name}"; known: ${allProjections.map((x) => x.name).join(', ')}`,
      );
    projections = [p];
  } else throw new Error('name a projection or pass --all');

  const interactive = process.stderr.isTTY;
  for (const projection of projections) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${projection.name.padEnd(14)} [{bar}] {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted} | {phase}`,
        stream: process.stderr,
        noTTYOutput: !interactive,
        notTTYSchedule: 2000,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(1, 0, { rate: 0, phase: 'starting' });
    const result = await rebuildProjection({
      db: sqlDatabase(ctx.db.pool),
      log: ctx.log,
      projection,
      estimateTotal: logSizeEstimate(ctx.config, ctx.db),
      onProgress: (p) => {
        bar.setTotal(Math.max(p.total ?? p.events, p.events, 1));
        bar.update(p.events, { rate: Math.round(p.eventsPerSecond), phase: p.phase });
      },
    });
    bar.stop();
    console.log(
      `${projection.name}: rebuilt generation ${result.generation} from ${result.events} events in ${(result.ms / 1000).toFixed(1)} s` +
        ` (${Math.round(result.events / Math.max(result.ms / 1000, 0.001))} events/s)` +
        (result.previous ? `; generation ${result.previous} retired` : ''),
    );
  }
};
