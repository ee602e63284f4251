// The built-in pruner `icbs` (docs: icbs.md). Reached by `uses: icbs` (src/stages/icbs.ts) and by
// `uses: prune` with `method: icbs`, with the same parameters.
import { ErrorCode, ScalpelError, asScalpelError } from '../errors.js';
import type { Pruner, PruneArgs, PruneResult } from '../plugin-api/pruner.js';
import { icbsPrunerSchema, icbsPrunerSchemaFor } from './schema.js';
import { type IcbsParams, withDefaults } from './params.js';
import { runIcbs } from './run-icbs.js';
import { resolveSolver } from './solver-choice.js';

function checkParams(p: IcbsParams): void {
  if (p.k >= p.blockSize) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `icbs: k (${p.k}) must be smaller than blockSize (${p.blockSize})`,
      {
        hint: 'k is the number of currently pruned weights in a block; the rest are kept weights (the authors use k = blockSize / 2)',
      },
    );
  }
}

export const icbsPruner: Pruner<IcbsParams> = {
  name: 'icbs',
  // 2: the LM Fisher is scaled by the tokens per sequence (Task.termsPerSample); Q filled by tiles.
  version: '2',
  description:
    'iterative Combinatorial Brain Surgeon: improve a one-shot mask by solving block QUBOs (fisher Hessian, simulated annealing)',
  get schema() {
    return icbsPrunerSchema();
  },
  schemaFor: icbsPrunerSchemaFor,
  requiresDataset: true,
  async prune(args: PruneArgs<IcbsParams>): Promise<PruneResult> {
    const params = withDefaults(args.params);
    checkParams(params);
    const solver = resolveSolver(params.solver, args.registry);
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
