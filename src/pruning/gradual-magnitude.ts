// Gradual magnitude pruning (finetune's `gradual:`): at every update step of a polynomial schedule
// (polynomial-schedule.ts) the kept weights with the smallest |w| are pruned until the layer (or,
// with `global`, all selected layers together) keeps round((1 − s_t)·size) weights (the rounding
// rule of select-mask.ts). Weights pruned once are never kept again — their score is −∞ — so the
// masks only ever grow, and at endStep the density is exactly 1 − finalSparsity.
import type { Mask, PrunableLayerInfo } from '../plugin-api/layers.js';
import type { PrunableModel } from '../plugin-api/model.js';
import {
  isPruningStep,
  polynomialSparsity,
  type PolynomialDecaySpec,
} from './polynomial-schedule.js';
import { countKept, globalKeepCount, keepCount, selectTopK } from './select-mask.js';

export type GradualGranularity = 'layer' | 'global';

export interface GradualSpec extends PolynomialDecaySpec {
  readonly granularity: GradualGranularity;
}

export interface GradualPoint {
  readonly step: number;
  /** The schedule's sparsity at this step. */
  readonly sparsity: number;
  /** Fraction of the selected weights kept after this update. */
  readonly density: number;
  readonly kept: number;
}

/** The number each layer keeps at sparsity s, never more than it keeps now. */
function layerTargets(
  layers: readonly PrunableLayerInfo[],
  masks: ReadonlyMap<string, Mask>,
  sparsity: number,
): number[] {
  return layers.map((l) =>
    Math.min(keepCount(1 - sparsity, l.paramCount), countKept(masks.get(l.name) as Mask)),
  );
}

export class GradualMagnitude {
  readonly history: GradualPoint[] = [];
  private readonly masks: Map<string, Mask>;
  private readonly size: number;

  /** `initial`: the masks training starts from (missing layers keep everything). */
  constructor(
    private readonly model: PrunableModel,
    private readonly spec: GradualSpec,
    private readonly layers: readonly PrunableLayerInfo[],
    initial: ReadonlyMap<string, Mask>,
  ) {
    this.masks = new Map(
      layers.map((l) => [
        l.name,
        Uint8Array.from(initial.get(l.name) ?? new Uint8Array(l.paramCount).fill(1)),
      ]),
    );
    this.size = layers.reduce((a, l) => a + l.paramCount, 0);
  }

  /** The selected layers' masks as they are now. */
  current(): ReadonlyMap<string, Mask> {
    return this.masks;
  }

  /** New masks if step t is an update step of the schedule, else undefined. */
  update(step: number): ReadonlyMap<string, Mask> | undefined {
    if (!isPruningStep(this.spec, step)) return undefined;
    const sparsity = polynomialSparsity(this.spec, step);
    const scores = this.layers.map((l) => this.scores(l));
    if (this.spec.granularity === 'global') this.updateGlobal(scores, sparsity);
    else {
      const targets = layerTargets(this.layers, this.masks, sparsity);
      this.layers.forEach((l, i) =>
        this.masks.set(l.name, selectTopK(scores[i] as Float64Array, targets[i] as number)),
      );
    }
    const kept = this.layers.reduce((a, l) => a + countKept(this.masks.get(l.name) as Mask), 0);
    this.history.push({ step, sparsity, density: kept / this.size, kept });
    return this.masks;
  }

  /** |w| of the kept weights, −∞ for pruned ones (so they are never chosen again). */
  private scores(layer: PrunableLayerInfo): Float64Array {
    const w = this.model.readWeight(layer.name);
    const mask = this.masks.get(layer.name) as Mask;
    const s = new Float64Array(w.length);
    for (let j = 0; j < w.length; j++) s[j] = mask[j] === 1 ? Math.abs(w[j] as number) : -Infinity;
    return s;
  }

  private updateGlobal(scores: readonly Float64Array[], sparsity: number): void {
    const all = new Float64Array(this.size);
    let offset = 0;
    let keptNow = 0;
    for (const [i, l] of this.layers.entries()) {
      all.set(scores[i] as Float64Array, offset);
      offset += l.paramCount;
      keptNow += countKept(this.masks.get(l.name) as Mask);
    }
    const budget = globalKeepCount(
      this.layers.map((l) => ({ density: 1 - sparsity, size: l.paramCount })),
    );
    const joint = selectTopK(all, Math.min(budget, keptNow));
    offset = 0;
    for (const l of this.layers) {
      this.masks.set(l.name, joint.slice(offset, offset + l.paramCount));
      offset += l.paramCount;
    }
  }
}
