// The `layerDensities` parameter of a pruning stage: `uniform` (absent: every selected layer at
// `density`, today's behaviour) or `owl` / `{ method: owl, M, lambda }` (owl.ts: per-block
// densities from the outlier share of the Wanda scores of the dense weights, averaging to
// `density`). Resolved once the layers are selected, before the pruner runs, so every pruner
// (iCBS included) gets the OWL densities in `LayerToPrune.density`.
import { ErrorCode, ScalpelError } from '../errors.js';
import { badStageParam } from '../error-factories.js';
import { blockOf } from '../plugin-api/layers.js';
import type { CalibrationData } from '../plugin-api/calibration.js';
import type { StageContext } from '../plugin-api/stage.js';
import type { LayerDensitiesRecord } from '../models/sparsity-manifest.js';
import { isObject } from '../util/is-object.js';
import { readCalibrationArtifact } from './calibration-artifact.js';
import type { SelectedLayer } from './layer-selection.js';
import { owlDensities, type OwlBlockInput, type OwlLayerInput } from './owl.js';
import type { PruneTarget } from './prune-target.js';

/** The paper's settings for LLaMA (also what `layerDensities: owl` means). */
export const owlDefaults = { M: 5, lambda: 0.08 } as const;

export interface OwlSpec {
  readonly method: 'owl';
  readonly M: number;
  readonly lambda: number;
}

/** What the stage reports in its metrics (and, with per-layer targets, in its model manifest). */
export interface LayerDensitiesInfo {
  method: 'owl';
  M: number;
  lambda: number;
  blocks: { block: string; outlierRatio: number; density: number }[];
}

export interface ResolvedLayerDensities {
  /** Selected layer name → its target density. */
  readonly densities: Map<string, number>;
  readonly info: LayerDensitiesInfo;
}

/** The OWL settings of a stage's params, or undefined for uniform densities. */
export function owlSpecOf(params: Readonly<Record<string, unknown>>): OwlSpec | undefined {
  const v = params.layerDensities;
  if (v === 'owl') return { method: 'owl', ...owlDefaults };
  if (isObject(v) && v.method === 'owl') {
    return {
      method: 'owl',
      M: typeof v.M === 'number' ? v.M : owlDefaults.M,
      lambda: typeof v.lambda === 'number' ? v.lambda : owlDefaults.lambda,
    };
  }
  return undefined;
}

/** The reason a stage with these params needs a calibration input, if it does. */
export function layerDensitiesCalibrationReason(
  params: Readonly<Record<string, unknown>>,
): string | undefined {
  return owlSpecOf(params) !== undefined ? 'layerDensities: owl reads the input norms' : undefined;
}

export interface LayerDensitiesArgs {
  readonly ctx: StageContext<Record<string, unknown>>;
  readonly pruner: string;
  readonly target: PruneTarget;
  readonly selected: readonly SelectedLayer[];
  /** The dense (current) weights of the selected layers. */
  readonly weights: ReadonlyMap<string, Float32Array>;
  /** The calibration the pruner's own inputs already loaded, if any. */
  readonly calibration: CalibrationData | undefined;
}

function checkCombination(args: LayerDensitiesArgs): void {
  const { ctx, target, pruner } = args;
  const fail = (message: string, hint: string): ScalpelError =>
    badStageParam(ctx.stageId, 'layerDensities', `${message} (pruner '${pruner}')`, hint);
  if (target.rule.pattern !== undefined) {
    throw fail(
      'owl cannot be combined with an N:M pattern (which fixes every layer at keep/of)',
      'remove layerDensities, or remove pattern and give a density',
    );
  }
  if (Object.keys(target.layers.density ?? {}).length > 0) {
    throw fail(
      'owl cannot be combined with per-layer densities in layers.density',
      'remove layers.density (OWL sets the density of every layer), or prune those layers in a separate stage',
    );
  }
  if (target.rule.granularity === 'global') {
    throw fail(
      'owl cannot be combined with granularity: global (a global ranking ignores per-layer densities)',
      'use granularity: layer or per-output with layerDensities: owl',
    );
  }
}

async function loadCalibration(
  ctx: StageContext<unknown>,
  given: CalibrationData | undefined,
): Promise<{ data: CalibrationData; stageId: string }> {
  const found = ctx.inputsOfKind('calibration');
  const first = found[0];
  if (found.length !== 1 || first === undefined) {
    const ids = found.map((a) => `'${a.stageId}'`).join(', ');
    throw new ScalpelError(
      ErrorCode.Graph,
      found.length === 0
        ? `stage '${ctx.stageId}': layerDensities: owl reads the input norms, but no stage in \`needs\` produces a 'calibration'`
        : `stage '${ctx.stageId}': layerDensities: owl needs one 'calibration' input, but ${ids} all produce one`,
      {
        stageId: ctx.stageId,
        hint:
          found.length === 0
            ? "add a `calibrate` stage (uses: calibrate, needs: [<model>, <dataset>]) and list it in this stage's `needs`"
            : `keep only one of ${ids} in \`needs\``,
      },
    );
  }
  return { data: given ?? (await readCalibrationArtifact(first)), stageId: first.stageId };
}

/**
 * The OWL densities of the selected layers, or undefined when the stage asks for uniform ones.
 * Throws on combinations OWL cannot honour (N:M pattern, layers.density, global granularity), on
 * a calibration without input norms for a selected layer, and on densities outside [0, 1].
 */
export async function resolveLayerDensities(
  args: LayerDensitiesArgs,
): Promise<ResolvedLayerDensities | undefined> {
  const { ctx, selected, weights } = args;
  const spec = owlSpecOf(ctx.params);
  if (spec === undefined) return undefined;
  checkCombination(args);
  const calibration = await loadCalibration(ctx, args.calibration);

  const blocks = new Map<string, OwlLayerInput[]>();
  for (const s of selected) {
    const name = s.info.name;
    const inputNorms = calibration.data.layers.get(name)?.inputNorms;
    if (inputNorms === undefined) {
      throw new ScalpelError(
        ErrorCode.Stage,
        `stage '${ctx.stageId}': calibration from stage '${calibration.stageId}' has no input norms for layer '${name}', which layerDensities: owl needs`,
        {
          stageId: ctx.stageId,
          layer: name,
          hint: 'let the calibrate stage compute inputNorms for this layer (its layer selection must cover every layer this stage prunes)',
        },
      );
    }
    if (inputNorms.length !== s.info.fanIn) {
      throw new ScalpelError(
        ErrorCode.Stage,
        `stage '${ctx.stageId}': calibration from stage '${calibration.stageId}' has ${inputNorms.length} input norms for layer '${name}', whose fanIn is ${s.info.fanIn}`,
        {
          stageId: ctx.stageId,
          layer: name,
          hint: 'calibrate the model this stage prunes (the calibrate stage must need the same model stage)',
        },
      );
    }
    const block = blockOf(s.info);
    const list = blocks.get(block) ?? [];
    list.push({
      name,
      weights: weights.get(name) ?? new Float32Array(0),
      inputNorms,
      units: s.info.units,
    });
    blocks.set(block, list);
  }
  const inputs: OwlBlockInput[] = [...blocks].map(([block, layers]) => ({ block, layers }));
  const result = owlDensities(inputs, {
    target: args.target.density,
    M: spec.M,
    lambda: spec.lambda,
    stageId: ctx.stageId,
  });
  return {
    densities: result.layers,
    info: {
      method: 'owl',
      M: spec.M,
      lambda: spec.lambda,
      blocks: result.blocks.map((b) => ({
        block: b.block,
        outlierRatio: b.outlierRatio,
        density: b.density,
      })),
    },
  };
}

/** The per-layer targets for the model manifest (`pruning.layerDensities`, read by export). */
export function layerDensitiesRecord(resolved: ResolvedLayerDensities): LayerDensitiesRecord {
  const { method, M, lambda } = resolved.info;
  return { method, M, lambda, layers: Object.fromEntries(resolved.densities) };
}
