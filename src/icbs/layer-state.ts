// The state iCBS keeps for one layer: the original weights w0, the prune decisions p (1 = pruned),
// frozen weights (never selected), the tabu list, and the current weights w = w0 ⊙ (1 − p) as a
// typed array (written to the model only when a step changes them).
import type { LayerToPrune } from '../plugin-api/pruner.js';
import type { PrunableLayerInfo } from '../plugin-api/layers.js';
import { TabuList } from './tabu.js';

export class LayerState {
  readonly info: PrunableLayerInfo;
  readonly name: string;
  readonly w0: Float32Array;
  /** 1 = pruned. */
  readonly pruned: Uint8Array;
  /** 1 = frozen (by fixing): never selected. */
  readonly frozen: Uint8Array;
  /** Current weights w0 ⊙ (1 − p). */
  readonly weights: Float32Array;
  /** The initial decisions (to count weights whose status changed). */
  readonly initialPruned: Uint8Array;
  /** Scores of the original weights (init method; also magnitude/wanda selection). */
  readonly initScores: Float32Array | Float64Array;
  tabu: TabuList;
  /** Fixed selection scores (magnitude / wanda selection); undefined for random and gradient. */
  selectionScores: Float32Array | Float64Array | undefined;
  /** Number of pruned weights (constant over the run). */
  readonly prunedCount: number;

  constructor(layer: LayerToPrune, keepMask: Uint8Array, initScores: Float32Array | Float64Array) {
    this.info = layer.info;
    this.name = layer.info.name;
    this.w0 = Float32Array.from(layer.weights);
    const n = this.w0.length;
    this.pruned = new Uint8Array(n);
    this.weights = new Float32Array(n);
    let pc = 0;
    for (let j = 0; j < n; j++) {
      const p = keepMask[j] === 1 ? 0 : 1;
      this.pruned[j] = p;
      this.weights[j] = p === 1 ? 0 : (this.w0[j] as number);
      pc += p;
    }
    this.prunedCount = pc;
    this.initialPruned = Uint8Array.from(this.pruned);
    this.frozen = new Uint8Array(n);
    this.initScores = initScores;
    this.tabu = new TabuList(0, n);
    this.selectionScores = undefined;
  }

  get size(): number {
    return this.w0.length;
  }

  private free: number | undefined;

  /** Non-frozen weights (the layer's search space). Call after fixing: the count is cached. */
  freeCount(): number {
    if (this.free === undefined) {
      let c = 0;
      for (let j = 0; j < this.frozen.length; j++) if (this.frozen[j] === 0) c++;
      this.free = c;
    }
    return this.free;
  }

  /**
   * Apply a block's new decisions (x[b] = 1 prunes block[b]): pruned weights become 0, kept ones
   * exactly w0. Returns whether anything changed.
   */
  applyBlock(block: Int32Array, x: Uint8Array): boolean {
    let changed = false;
    for (let b = 0; b < block.length; b++) {
      const j = block[b] as number;
      const p = x[b] as number;
      if (this.pruned[j] !== p) changed = true;
      this.pruned[j] = p;
      this.weights[j] = p === 1 ? 0 : (this.w0[j] as number);
    }
    return changed;
  }

  /** The keep-mask (1 = keep). */
  keepMask(): Uint8Array {
    const m = new Uint8Array(this.size);
    for (let j = 0; j < m.length; j++) m[j] = this.pruned[j] === 1 ? 0 : 1;
    return m;
  }

  /** Weights whose status differs from the initial mask. */
  changedSinceInit(): number {
    let c = 0;
    for (let j = 0; j < this.size; j++) if (this.pruned[j] !== this.initialPruned[j]) c++;
    return c;
  }

  currentPrunedCount(): number {
    let c = 0;
    for (let j = 0; j < this.size; j++) c += this.pruned[j] as number;
    return c;
  }
}
