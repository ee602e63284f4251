// scalpel plan <recipe>: the stage graph with each node's hash and whether it is cached.
import { Command } from 'commander';
import type { Plan } from '../../engine/plan.js';
import { shortHash } from '../../engine/hash.js';
import type { BackendChoice } from '../../recipe/types.js';
import { backendChoice, collect, withDebug } from '../options.js';
import { renderTable } from '../table.js';

interface PlanOpts {
  set: string[];
  backend?: BackendChoice;
  cache: boolean;
  cacheDir?: string;
  json?: boolean;
}

export function planJson(plan: Plan): Record<string, unknown> {
  return {
    recipe: plan.recipe.file,
    name: plan.recipe.name,
    backend: plan.backend,
    cache: plan.cache.root,
    nodes: plan.nodes.map((n) => ({
      id: n.id,
      uses: n.uses,
      version: n.version,
      hash: n.hash,
      needs: n.needs,
      cached: n.cached,
    })),
  };
}

export function renderPlan(plan: Plan): string {
  const rows = [['id', 'uses', 'hash', 'status', 'needs']];
  for (const n of plan.nodes) {
    rows.push([
      n.id,
      n.uses,
      shortHash(n.hash),
      n.cached ? 'cached' : 'will run',
      n.needs.length > 0 ? n.needs.join(', ') : '-',
    ]);
  }
  const toRun = plan.nodes.filter((n) => !n.cached).length;
  return [
    `recipe ${plan.recipe.name} (${plan.recipe.file})`,
    `backend ${plan.backend} · cache ${plan.cache.root}`,
    '',
    renderTable(rows),
    '',
    `${toRun} of ${plan.nodes.length} stage${plan.nodes.length === 1 ? '' : 's'} will run, ${plan.nodes.length - toRun} cached`,
  ].join('\n');
}

export function planCommand(): Command {
  return withDebug(new Command('plan'))
    .description('show the stage graph: each stage, its node hash and whether it is cached')
    .argument('<recipe>', 'recipe file (YAML)')
    .option(
      '--set <path=value>',
      'override a field, value parsed as YAML (repeatable)',
      collect,
      [],
    )
    .option(
      '--backend <backend>',
      'override the recipe backend: auto, tensorflow, wasm or cpu',
      backendChoice,
    )
    .option('--no-cache', 'plan as if nothing were cached')
    .option('--cache-dir <dir>', 'cache root (default $SCALPEL_CACHE_DIR or ./.scalpel)')
    .option('--json', 'print the plan as JSON')
    .action(async (file: string, opts: PlanOpts) => {
      const { planRecipe } = await import('../../engine/plan.js');
      const plan = await planRecipe(file, {
        set: opts.set,
        noCache: !opts.cache,
        ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
        ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}),
      });
      // As `run` does: say that the trials are not what this plan shows (stderr: --json stays clean).
      if (plan.recipe.sweep !== undefined)
        process.stderr.write(
          'warning: the recipe has a sweep: section; plan shows it once as written (scalpel validate lists the trials, scalpel sweep runs them)\n',
        );
      process.stdout.write(
        (opts.json === true ? JSON.stringify(planJson(plan), null, 2) : renderPlan(plan)) + '\n',
      );
    });
}
