// The built-in pruner `icbs` (docs: icbs.md). Reached by `uses: icbs` (src/stages/icbs.ts) and by
// `uses: prune` with `method: icbs`, with the same parameters.
import { ErrorCode, ScalpelError, asScalpelError } from '../errors.js';
import type { Pruner, PruneArgs, PruneResult } from '../plugin-api/pruner.js';
import type { RegistryView } from '../plugin-api/registry-view.js';
import { checkPatternFits } from '../pruning/select-mask.js';
import { builtinSolvers } from '../solvers/index.js';
import { groupCapableSolvers, icbsPrunerSchema, icbsPrunerSchemaFor } from './schema.js';
import { type IcbsParams, withDefaults } from './params.js';
import { runIcbs, type IcbsSolver } from './run-icbs.js';
import { resolveSolver, solverIdentity } from './solver-choice.js';

function checkParams(p: IcbsParams): void {
  // N:M blocks are whole groups: k is not used.
  if (p.pattern === undefined && p.k >= p.blockSize) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `icbs: k (${p.k}) must be smaller than blockSize (${p.blockSize})`,
      {
        hint: 'k is the number of currently pruned weights in a block; the rest are kept weights (the authors use k = blockSize / 2)',
      },
    );
  }
}

/**
 * N:M mode: the pattern fits every layer, agrees with the layers' densities, a block holds at
 * least one group, and the solver keeps per-group counts. The schema checks the solver at
 * validate time; this catches callers that bypass it, before any work is done.
 */
function checkPatternMode(
  args: PruneArgs<IcbsParams>,
  p: IcbsParams,
  solver: IcbsSolver,
  registry: RegistryView | undefined,
): void {
  const pattern = p.pattern;
  if (pattern === undefined) return;
  const label = `${pattern.keep}:${pattern.of}`;
  for (const layer of args.layers) {
    checkPatternFits(pattern, layer.info.fanIn, layer.info.name);
    const implied = pattern.keep / pattern.of;
    if (Math.abs(layer.density - implied) > 1e-12) {
      throw new ScalpelError(
        ErrorCode.RecipeSchema,
        `icbs: density ${layer.density} of layer '${layer.info.name}' contradicts pattern ${label} (density ${implied})`,
        { layer: layer.info.name, hint: `remove density (the pattern implies ${implied})` },
      );
    }
  }
  if (p.blockSize < pattern.of) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `icbs: blockSize (${p.blockSize}) is smaller than one N:M group (${pattern.of} weights)`,
      { hint: `a block is whole groups: set blockSize to a multiple of ${pattern.of}` },
    );
  }
  if (solver.solver.groupConstraints !== true) {
    const solvers =
      registry !== undefined
        ? registry.solverNames().map((name) => registry.solver(name))
        : builtinSolvers;
    const capable = groupCapableSolvers(solvers);
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `icbs: solver '${solver.solver.name}' cannot keep the N:M groups of pattern ${label} (it handles only one cardinality constraint per block)`,
      {
        hint: `use solver ${capable.map((c) => `'${c}'`).join(' or ')} with pattern, or drop pattern for unstructured pruning`,
      },
    );
  }
}

export const icbsPruner: Pruner<IcbsParams> = {
  name: 'icbs',
  // 2: the LM Fisher is scaled by the tokens per sequence (Task.termsPerSample); Q filled by tiles.
  // Unchanged by N:M mode: `pattern` is a parameter, so it changes the node hash by itself.
  // 3: weights the input model's masks pruned stay pruned and frozen (rounds of `repeat:`).
  version: '3',
  description:
    'iterative Combinatorial Brain Surgeon: improve a one-shot mask by solving block QUBOs (fisher Hessian, simulated annealing)',
  get schema() {
    return icbsPrunerSchema();
  },
  schemaFor: icbsPrunerSchemaFor,
  fingerprint: (params, registry) => ({ solver: solverIdentity(params, registry) }),
  requiresDataset: true,
  async prune(args: PruneArgs<IcbsParams>): Promise<PruneResult> {
    const params = withDefaults(args.params);
    checkParams(params);
    const solver = resolveSolver(params.solver, args.registry);
    checkPatternMode(args, params, solver, args.registry);
    try {
      return await runIcbs({ ...args, params }, solver);
    } catch (e) {
      if (e instanceof ScalpelError) throw e;
      const message = e instanceof Error ? e.message : String(e);
      if (/not registered for backend/.test(message)) {
        throw asScalpelError(
          e,
          ErrorCode.Stage,
          'icbs: the tfjs backend cannot compute a gradient this model needs',
          {
            hint: `${message}; run with backend: cpu, or leave the layer that uses this op out of layers.include`,
          },
        );
      }
      throw e;
    }
  },
};
