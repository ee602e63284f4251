// OWL, outlier-weighted layer-wise sparsity (Yin et al. 2023, arXiv:2310.05175): blocks whose
// Wanda scores |W_ij|·‖X_i‖₂ hold more outliers keep more weights. Per block, the outlier ratio
// D = fraction of its scores above M × their mean; the ratios are min–max scaled to [0, 2λ] and
// shifted so that the mean density is the target. The reference code (github:luuyin/OWL) takes
// the plain mean over equal-sized transformer blocks; blocks here can differ in size (a classifier
// is a block of its own), so the shift makes the PARAMETER-WEIGHTED mean the target and the kept
// weights total target × all weights (up to each layer rounding to ⌊density·n + ½⌋ weights).
import { ErrorCode, ScalpelError } from '../errors.js';

export interface OwlLayerInput {
  readonly name: string;
  /** Kernel [fanIn, units] row-major (index i*units + o). */
  readonly weights: ArrayLike<number>;
  /** ‖X_i‖₂ per input feature, length fanIn. */
  readonly inputNorms: ArrayLike<number>;
  readonly units: number;
}

export interface OwlBlockInput {
  readonly block: string;
  readonly layers: readonly OwlLayerInput[];
}

export interface OwlOptions {
  /** Mean density to reach (fraction of weights kept). */
  readonly target: number;
  /** Outlier threshold: a score is an outlier above M × the block's mean score. */
  readonly M: number;
  /** Densities span [target − λ, target + λ] (before the parameter-weighted shift). */
  readonly lambda: number;
  /** Named in the out-of-range error. */
  readonly stageId?: string;
}

export interface OwlBlockResult {
  readonly block: string;
  /** Fraction of the block's scores above M × their mean. */
  readonly outlierRatio: number;
  readonly density: number;
  /** Weights in the block's layers. */
  readonly params: number;
}

export interface OwlResult {
  readonly blocks: OwlBlockResult[];
  /** Layer name → its block's density. */
  readonly layers: Map<string, number>;
}

/** Outlier ratio of one block: its Wanda scores (float64) above M × their mean, as a fraction. */
export function outlierRatio(layers: readonly OwlLayerInput[], M: number): number {
  let sum = 0;
  let count = 0;
  const visit = (f: (score: number) => void): void => {
    for (const l of layers) {
      const fanIn = l.inputNorms.length;
      if (fanIn * l.units !== l.weights.length) {
        throw new ScalpelError(
          ErrorCode.Internal,
          `owl: layer '${l.name}' has ${l.weights.length} weights but ${fanIn} input norms × ${l.units} units`,
          { layer: l.name },
        );
      }
      for (let i = 0; i < fanIn; i++) {
        const n = l.inputNorms[i] as number;
        const row = i * l.units;
        for (let o = 0; o < l.units; o++) f(Math.abs(l.weights[row + o] as number) * n);
      }
    }
  };
  visit((s) => {
    sum += s;
    count++;
  });
  if (count === 0) return 0;
  const threshold = (M * sum) / count;
  let outliers = 0;
  visit((s) => {
    if (s > threshold) outliers++;
  });
  return outliers / count;
}

/** Per-block (and per-layer) densities whose parameter-weighted mean is `options.target`. */
export function owlDensities(blocks: readonly OwlBlockInput[], options: OwlOptions): OwlResult {
  const ratios = blocks.map((b) => outlierRatio(b.layers, options.M));
  const params = blocks.map((b) => b.layers.reduce((a, l) => a + l.weights.length, 0));
  const dMin = Math.min(...ratios);
  const dMax = Math.max(...ratios);
  // All ratios equal: no block stands out, every block gets the target.
  const scaled = ratios.map((d) =>
    dMax > dMin ? ((d - dMin) / (dMax - dMin)) * 2 * options.lambda : 0,
  );
  const total = params.reduce((a, n) => a + n, 0);
  const weightedMean =
    total > 0 ? scaled.reduce((a, s, b) => a + s * (params[b] as number), 0) / total : 0;
  const shift = options.target - weightedMean;

  const results: OwlBlockResult[] = [];
  const layers = new Map<string, number>();
  blocks.forEach((b, i) => {
    const raw = (scaled[i] as number) + shift;
    // Rounding noise at the edges (target ± λ exactly 0 or 1) is not a user error.
    const density = Math.abs(raw) < 1e-12 ? 0 : Math.abs(raw - 1) < 1e-12 ? 1 : raw;
    if (density < 0 || density > 1) {
      const where = options.stageId !== undefined ? `stage '${options.stageId}': ` : '';
      throw new ScalpelError(
        ErrorCode.RecipeSchema,
        `${where}layerDensities: owl gives block '${b.block}' the density ${raw.toFixed(4)}, outside [0, 1] (target ${options.target}, M ${options.M}, lambda ${options.lambda})`,
        {
          ...(options.stageId !== undefined ? { stageId: options.stageId } : {}),
          hint: `lower lambda (densities spread up to 2·lambda around the target density ${options.target})`,
        },
      );
    }
    results.push({
      block: b.block,
      outlierRatio: ratios[i] as number,
      density,
      params: params[i] as number,
    });
    for (const l of b.layers) layers.set(l.name, density);
  });
  return { blocks: results, layers };
}
