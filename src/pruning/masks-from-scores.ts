// Score-based pruners in one call: score every layer, then select masks by granularity (one
// threshold per layer, per output unit, per input row, or one across all layers) or N:M pattern.
import type { Mask } from '../plugin-api/layers.js';
import type { LayerToPrune } from '../plugin-api/pruner.js';
import {
  selectGlobalMasks,
  selectMask,
  type Granularity,
  type NMPattern,
  type Scores,
} from './select-mask.js';

export interface ScoreSelection {
  /** Default 'layer'. */
  readonly granularity?: Granularity;
  /** N:M pattern; when set, `granularity` is ignored. */
  readonly pattern?: NMPattern;
}

/** `scores` with −∞ where `incoming` (an earlier prune's mask) prunes: selected last. */
export function belowIncoming(scores: Scores, incoming: Mask | undefined): Scores {
  if (incoming === undefined) return scores;
  const out = Float64Array.from(scores);
  for (let j = 0; j < out.length; j++) if (incoming[j] === 0) out[j] = -Infinity;
  return out;
}

/**
 * Masks for every layer from its scores (higher = keep), at each layer's `density`. Weights a
 * layer's `incoming` mask pruned are selected last, so they stay pruned.
 */
export function masksFromScores(
  layers: readonly LayerToPrune[],
  scoreOf: (layer: LayerToPrune) => Scores,
  selection: ScoreSelection = {},
): Map<string, Mask> {
  const score = (l: LayerToPrune): Scores => belowIncoming(scoreOf(l), l.incoming);
  const granularity = selection.granularity ?? 'layer';
  if (selection.pattern === undefined && granularity === 'global') {
    return selectGlobalMasks(
      layers.map((l) => ({ name: l.info.name, scores: score(l), density: l.density })),
    );
  }
  const masks = new Map<string, Mask>();
  for (const l of layers) {
    masks.set(
      l.info.name,
      selectMask(score(l), l.info, {
        density: l.density,
        label: l.info.name,
        ...(selection.pattern !== undefined ? { pattern: selection.pattern } : {}),
        ...(granularity !== 'global' ? { granularity } : {}),
      }),
    );
  }
  return masks;
}
