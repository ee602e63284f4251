// Solvers may hold resources between solve calls (sa's annealer worker threads, a plugin's
// service connection). A run or sweep closes every solver of its registries once, when it ends:
// nodes running at the same time share a solver, so no single node can close it.
import type { RegistryView } from '../plugin-api/registry-view.js';
import type { QuboSolver } from '../plugin-api/solver.js';

/**
 * Calls `close()` of every solver in `registries` (each solver once, even when several registries
 * hold it, e.g. the built-in `sa`). A failing close is reported through `warn` and does not stop
 * the others: the run's results are already decided.
 */
export async function closeSolvers(
  registries: Iterable<RegistryView>,
  warn: (message: string) => void,
): Promise<void> {
  const solvers = new Map<QuboSolver, string>();
  for (const registry of new Set(registries)) {
    for (const name of registry.solverNames()) {
      const solver = registry.solver(name);
      if (!solvers.has(solver)) solvers.set(solver, registry.originOf('solver', name));
    }
  }
  await Promise.all(
    [...solvers].map(async ([solver, origin]) => {
      if (typeof solver.close !== 'function') return;
      try {
        await solver.close();
      } catch (e) {
        const from = origin === 'builtin' ? '' : ` (plugin '${origin}')`;
        warn(
          `solver '${solver.name}'${from}: close() failed: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }),
  );
}
