// A prune stage on a model that is already pruned (a round of `repeat:`, or any prune after a
// prune) keeps what was pruned pruned: the new mask must lie inside the incoming one. Magnitude
// and wanda rank by |w|, so a pruned weight (exactly 0) is never kept while a nonzero one is
// dropped; SparseGPT never selects the incoming mask's pruned weights, although its error
// compensation makes them non-zero (sparsegpt-layer.ts); iCBS freezes them (icbs/init-mask.ts).
// For any other pruner (random, a plugin) the stage repairs the mask here. Within each group
// whose count the exactness rule fixes (the layer, an output unit's column, an input row, an N:M
// group) it keeps the weights both masks keep and refills the rest with the largest-magnitude
// weights the incoming mask kept, so the counts — and the exact density — stay what the pruner
// returned.
import type { Mask } from '../plugin-api/layers.js';
import type { MaskRule } from './mask-contract.js';
import { badStageParam } from '../error-factories.js';

export interface KernelGroups {
  readonly fanIn: number;
  readonly units: number;
}

/** The index groups whose kept count `rule` fixes, in the [fanIn, units] row-major layout. */
export function ruleGroups(shape: KernelGroups, rule: MaskRule): number[][] {
  const { fanIn, units } = shape;
  const at = (i: number, o: number): number => i * units + o;
  const groups: number[][] = [];
  if (rule.pattern !== undefined) {
    const of = rule.pattern.of;
    for (let o = 0; o < units; o++)
      for (let g = 0; g + of <= fanIn; g += of)
        groups.push(Array.from({ length: of }, (_, t) => at(g + t, o)));
  } else if (rule.granularity === 'per-output') {
    for (let o = 0; o < units; o++) groups.push(Array.from({ length: fanIn }, (_, i) => at(i, o)));
  } else if (rule.granularity === 'per-input') {
    for (let i = 0; i < fanIn; i++) groups.push(Array.from({ length: units }, (_, o) => at(i, o)));
  } else {
    groups.push(Array.from({ length: fanIn * units }, (_, j) => j));
  }
  return groups;
}

export interface RoundStartResult {
  readonly mask: Mask;
  /** Weights the pruner kept although the incoming mask had pruned them (replaced). */
  readonly restored: number;
}

/** True when every weight `mask` keeps is kept by `incoming`. */
export function isWithin(mask: Mask, incoming: Mask): boolean {
  for (let j = 0; j < mask.length; j++) if (mask[j] === 1 && incoming[j] === 0) return false;
  return true;
}

/**
 * `mask` moved inside `incoming` group by group (counts unchanged); `weights` rank the refill
 * (|w|, ties to the lower index). Throws a located-by-stage error when a group keeps more than
 * the incoming mask left in it: a prune cannot raise the density of a pruned model.
 */
export function keepIncomingPruned(
  mask: Mask,
  incoming: Mask,
  weights: Float32Array,
  shape: KernelGroups,
  rule: MaskRule,
  where: { stageId: string; layer: string },
): RoundStartResult {
  if (isWithin(mask, incoming)) return { mask, restored: 0 };
  const out = new Uint8Array(mask.length);
  let restored = 0;
  for (const group of ruleGroups(shape, rule)) {
    let want = 0;
    let available = 0;
    const refill: number[] = [];
    for (const j of group) {
      want += mask[j] as number;
      if (incoming[j] === 1) {
        available++;
        if (mask[j] === 1) out[j] = 1;
        else refill.push(j);
      } else if (mask[j] === 1) restored++;
    }
    if (want > available) {
      throw badStageParam(
        where.stageId,
        'density',
        `layer '${where.layer}' keeps only ${available} weight(s) of a group of ${group.length} after the previous pruning, and this stage would keep ${want}: a prune cannot un-prune weights`,
        'prune a pruned model to a lower density than it has (in repeat: densities decrease from round to round), or prune the dense model',
      );
    }
    let missing = want - (available - refill.length);
    refill.sort((a, b) => Math.abs(weights[b] as number) - Math.abs(weights[a] as number) || a - b);
    for (const j of refill) {
      if (missing <= 0) break;
      out[j] = 1;
      missing--;
    }
  }
  return { mask: out, restored };
}
