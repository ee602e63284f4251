// Sequential (block-by-block) pruning, as the reference Wanda and SparseGPT implementations prune
// LLMs: the selected layers are grouped by block (PrunableLayerInfo.block: a transformer block;
// otherwise each layer alone), in forward order, and a layer-wise pruner is called once per block
// with statistics recorded from the model as pruned so far — block l sees the inputs that blocks
// < l produce after pruning (and reconstruction). Only one block's statistics exist at a time:
// peak extra memory is Σ over the block's layers of fanIn (norms) or fanIn² (XᵀX) float64 values.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { CalibrationData, CalibrationNeeds } from '../plugin-api/calibration.js';
import { blockOf } from '../plugin-api/layers.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { Pruner } from '../plugin-api/pruner.js';
import type { CalibrationArtifactData, SequentialCalibration } from './calibration-artifact.js';
import type { SelectedLayer } from './layer-selection.js';
import { layerStatistics, type StatisticsFunction } from './layer-statistics.js';
import type { MaskRule } from './mask-contract.js';
import type { Progress } from '../plugin-api/stage.js';
import type { ArrayScratch } from './array-scratch.js';

/** How a prune stage calls its pruner: once on every layer, or once per block. */
export interface PrunePlan {
  /** Set when each unit's statistics are computed at prune time. */
  readonly sequential?: SequentialCalibration;
  /** Groups of selected layers, one pruner call each, in forward order. */
  readonly units: readonly (readonly SelectedLayer[])[];
}

/** Statistics recomputed per block: what flows through the layers (not gradients). */
const perBlockStats = ['inputNorms', 'gram'] as const;

export function needsSequentialStats(needs: CalibrationNeeds | undefined): boolean {
  return perBlockStats.some((k) => needs?.[k] === true);
}

/** Selected layers grouped by block, blocks in the order their first layer appears. */
export function groupByBlock(selected: readonly SelectedLayer[]): SelectedLayer[][] {
  const groups = new Map<string, SelectedLayer[]>();
  for (const s of selected) {
    const key = blockOf(s.info);
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [s]);
    else g.push(s);
  }
  return [...groups.values()];
}

export function planPrune(
  pruner: Pruner,
  selected: readonly SelectedLayer[],
  calibration: CalibrationArtifactData | undefined,
  rule: MaskRule,
  where: { stageId: string; calibrationStage?: string },
): PrunePlan {
  const sequential = calibration?.sequential;
  if (sequential === undefined || !needsSequentialStats(pruner.calibration))
    return { units: [selected] };
  const from = `calibration${where.calibrationStage !== undefined ? ` from stage '${where.calibrationStage}'` : ''}`;
  if (pruner.layerwise !== true) {
    if (pruner.calibration?.gram === true) {
      throw new ScalpelError(
        ErrorCode.Stage,
        `stage '${where.stageId}': ${from} is sequential (statistics are computed per block at prune time, no XᵀX is stored), but pruner '${pruner.name}' is not layer-wise and reads XᵀX of every layer at once`,
        {
          stageId: where.stageId,
          hint: 'set `sequential: false` in the calibrate stage',
        },
      );
    }
    // Input norms of the dense model are stored in a sequential artifact too.
    return { units: [selected] };
  }
  if (rule.granularity === 'global') {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `stage '${where.stageId}': granularity 'global' ranks weights across all layers at once, which sequential (block-by-block) pruning cannot do`,
      {
        stageId: where.stageId,
        hint: 'use another granularity, or set `sequential: false` in the calibrate stage',
      },
    );
  }
  return { sequential, units: groupByBlock(selected) };
}

/**
 * The statistics `pruner` needs for `unit`, recorded now from `model` (whose earlier blocks are
 * already pruned) on the stored calibration samples; mean gradients, if needed, come from the
 * dense-model artifact.
 */
export async function unitCalibration(
  model: PrunableModel,
  pruner: Pruner,
  unit: readonly SelectedLayer[],
  calibration: CalibrationArtifactData,
  sequential: SequentialCalibration,
  options: {
    signal?: AbortSignal;
    progress?: Progress;
    scratch?: ArrayScratch<Float64Array>;
    statistics?: StatisticsFunction;
  },
): Promise<CalibrationData> {
  const needs = pruner.calibration ?? {};
  const statistics = options.statistics ?? layerStatistics;
  const layers = await statistics(
    model,
    sequential.samples,
    unit.map((s) => ({
      info: s.info,
      inputNorms: needs.inputNorms === true,
      gram: needs.gram === true && model.isLinearInInput(s.info.name),
      meanGradient: false,
    })),
    {
      batchSize: sequential.batchSize,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(options.progress !== undefined ? { progress: options.progress } : {}),
      ...(options.scratch !== undefined ? { scratch: options.scratch } : {}),
    },
  );
  if (needs.meanGradient === true) {
    for (const s of unit) {
      const g = calibration.layers.get(s.info.name)?.meanGradient;
      const c = layers.get(s.info.name);
      if (g !== undefined && c !== undefined) c.meanGradient = g;
    }
  }
  return {
    samples: calibration.samples,
    sampleIds: calibration.sampleIds,
    split: calibration.split,
    layers,
  };
}
