// The starting point of iCBS (docs: icbs.md, "Initial mask"): score every weight of the original
// layer, keep the highest-scoring `density` fraction (select-mask.ts: exact counts per layer,
// output unit or input row; with params.pattern the best `keep` of every N:M group), then freeze
// part of the search space (fixing) and size the tabu list.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { LayerToPrune } from '../plugin-api/pruner.js';
import { gradientScores, magnitudeScores, randomScores, wandaScores } from '../pruning/scores.js';
import { keepCount, selectMask, selectPatternMask } from '../pruning/select-mask.js';
import { belowIncoming } from '../pruning/masks-from-scores.js';
import { topKBy } from './top-k.js';
import type { Rng } from '../util/rng.js';
import { LayerState } from './layer-state.js';
import type { InitStatistics } from './init-statistics.js';
import type { IcbsParams, InitMethod } from './params.js';
import { TabuList } from './tabu.js';

export type ScoreArray = Float32Array | Float64Array;

/** Scores of the ORIGINAL weights for a method (random: seeded uniform). */
export function scoresOf(
  method: InitMethod,
  layer: LayerToPrune,
  stats: InitStatistics,
  rng: Rng,
): ScoreArray {
  const name = layer.info.name;
  switch (method) {
    case 'magnitude':
      return magnitudeScores(layer.weights);
    case 'random':
      return randomScores(layer.weights.length, rng.fork(`random-scores:${name}`));
    case 'wanda': {
      const norms = stats.inputNorms.get(name);
      if (norms === undefined)
        throw new ScalpelError(ErrorCode.Internal, `no input norms for '${name}'`, { layer: name });
      return wandaScores(layer.weights, norms, layer.info.units);
    }
    case 'gradient': {
      const g = stats.meanGradients.get(name);
      if (g === undefined)
        throw new ScalpelError(ErrorCode.Internal, `no mean gradient for '${name}'`, {
          layer: name,
        });
      return gradientScores(layer.weights, g);
    }
  }
}

/** Indices of `set` ordered by (score, index) ascending. */
function orderByScore(set: number[], scores: ArrayLike<number>): number[] {
  return set.sort((a, b) => {
    const d = (scores[a] as number) - (scores[b] as number);
    return d !== 0 && !Number.isNaN(d) ? d : a - b;
  });
}

/**
 * Freeze the lowest-scoring `fixPrune` fraction of the initially pruned weights (as pruned) and
 * the highest-scoring `fixKeep` fraction of the kept ones (as kept). Counts round half up.
 */
export function applyFixing(
  state: LayerState,
  scores: ArrayLike<number>,
  fixPrune: number,
  fixKeep: number,
): void {
  const pruned: number[] = [];
  const kept: number[] = [];
  // Weights frozen already (pruned by the input model's masks) are outside the fractions.
  for (let j = 0; j < state.size; j++)
    if (state.frozen[j] === 0) (state.pruned[j] === 1 ? pruned : kept).push(j);
  const nPrune = Math.floor(fixPrune * pruned.length + 0.5);
  const nKeep = Math.floor(fixKeep * kept.length + 0.5);
  if (nPrune > 0)
    for (const j of orderByScore(pruned, scores).slice(0, nPrune)) state.frozen[j] = 1;
  if (nKeep > 0)
    for (const j of orderByScore(kept, scores).slice(kept.length - nKeep)) state.frozen[j] = 1;
}

/** Tabu capacity tabuFraction × free weights, or 0 when that would leave < blockSize candidates. */
export function tabuCapacity(free: number, tabuFraction: number, blockSize: number): number {
  const capacity = Math.floor(tabuFraction * free);
  return free - capacity < blockSize ? 0 : capacity;
}

/**
 * Make the mask keep exactly `target` weights: per-output / per-input masks round per unit, so
 * their layer total can differ from the layer's exact count by up to half a weight per unit.
 * iCBS steps preserve only the layer total (blocks span units), so the total is set to the
 * layer's exact count here, keeping the best-scored pruned / pruning the worst-scored kept weights.
 */
export function matchLayerCount(keep: Uint8Array, scores: ScoreArray, target: number): void {
  let kept = 0;
  for (let j = 0; j < keep.length; j++) kept += keep[j] as number;
  if (kept === target) return;
  const want = kept < target ? 0 : 1;
  const pool: number[] = [];
  for (let j = 0; j < keep.length; j++) if (keep[j] === want) pool.push(j);
  const flip = topKBy(
    Int32Array.from(pool),
    scores,
    Math.abs(target - kept),
    kept < target ? 1 : -1,
  );
  for (const j of flip) keep[j] = kept < target ? 1 : 0;
}

/**
 * Initial mask, fixing and tabu of one layer. `layer.incoming`: the input model's mask (an
 * earlier round); the weights it pruned start pruned and are frozen, so the search never
 * un-prunes them.
 */
export function initLayer(
  layer: LayerToPrune,
  params: IcbsParams,
  stats: InitStatistics,
  rng: Rng,
): LayerState {
  const incoming = layer.incoming;
  const original = scoresOf(params.init.method, layer, stats, rng);
  const scores = belowIncoming(original, incoming);
  let keep: Uint8Array;
  if (params.pattern !== undefined) {
    // N:M steps keep every group's count, so the layer total needs no adjustment.
    keep = selectPatternMask(scores, layer.info, params.pattern, layer.info.name);
  } else {
    keep = selectMask(scores, layer.info, {
      density: layer.density,
      granularity: params.init.granularity,
      label: layer.info.name,
    });
    matchLayerCount(keep, scores, keepCount(layer.density, keep.length));
  }
  const state = new LayerState(layer, keep, original);
  if (incoming !== undefined) {
    for (let j = 0; j < state.size; j++)
      if (incoming[j] === 0 && state.pruned[j] === 1) state.frozen[j] = 1;
  }
  applyFixing(state, original, params.fix.prune, params.fix.keep);
  state.tabu = new TabuList(
    tabuCapacity(state.freeCount(), params.tabuFraction, params.blockSize),
    state.size,
  );
  return state;
}
