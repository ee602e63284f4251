// The registry every recipe starts from: scalpel's built-in stage types and solvers, plus the
// pruners shipped in plugins/ — loaded through the same plugin loader a user's plugin goes
// through, so the bundled baselines prove the plugin path works.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinStages } from '../stages/index.js';
import { builtinSolvers } from '../solvers/index.js';
import { icbsPruner } from '../icbs/pruner.js';
import { builtinFamilies } from '../models/families.js';
import { Registry } from './registry.js';
import { loadPluginInto } from './plugin-loader.js';

/**
 * Bundled plugin modules (the baseline pruners), as paths relative to the build root — the
 * directory holding compiled `src/` and `plugins/` (e.g. 'plugins/magnitude/index.js').
 * FILLED IN BY THE PRUNERS WORK: add one line per bundled plugin module.
 */
export const bundledPluginModules: string[] = ['plugins/baselines/index.js'];

/** Root of the compiled tree (dist/ or another outDir): this file is <root>/src/registry/builtins.js. */
const buildRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A new registry with everything scalpel ships. */
export async function createBuiltinRegistry(): Promise<Registry> {
  const registry = new Registry();
  for (const stage of builtinStages) registry.registerStage(stage, 'builtin');
  for (const solver of builtinSolvers) registry.registerSolver(solver, 'builtin');
  registry.registerPruner(icbsPruner, 'builtin');
  registry.registerAll({ families: builtinFamilies }, 'builtin');
  for (const rel of bundledPluginModules) {
    await loadPluginInto(registry, join(buildRoot, rel), buildRoot);
  }
  return registry;
}

let shared: Promise<Registry> | undefined;

/**
 * The built-in registry, created once per process. Treat it as read-only: loadRecipe clones it
 * before adding a recipe's plugins.
 */
export function builtinRegistry(): Promise<Registry> {
  shared ??= createBuiltinRegistry().catch((e: unknown) => {
    shared = undefined; // let a later call retry (and report) rather than cache the failure
    throw e;
  });
  return shared;
}
