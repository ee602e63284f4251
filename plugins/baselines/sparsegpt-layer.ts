// SparseGPT for one layer (Frantar & Alistarh 2023, arXiv:2301.00774, Algorithm 1 and the
// authors' reference implementation), in our kernel layout [fanIn, units]: SparseGPT's "columns"
// (input features) are the ROWS of our kernel, its "rows" (output units) our columns.
//
//   H = (2/n) Σ x xᵀ over the n calibration rows; dead inputs (H_ii = 0) get H_ii = 1 and their
//   weights zeroed; H += percdamp·mean(diag H)·I; U = upper Cholesky factor of H⁻¹.
//   For each block of `blocksize` input features: choose the block's mask by w²/U_jj² (current,
//   already-updated weights; exact count per block, see below); then feature by feature, zero the
//   pruned weights, err = (w − q)/U_jj, subtract err ⊗ U_j,· from the remaining features of the
//   block; finally subtract the block's accumulated errors from all later features at once (the
//   lazy batch update). With an N:M pattern the mask is chosen every M features, per output unit.
//
// Exact density: block b keeps keepCount(d, end_b·units) − keepCount(d, start_b·units) weights, so
// the blocks add up to exactly keepCount(d, fanIn·units) (the reference's per-block threshold
// `tmp <= sort(tmp)[int(numel·sparsity)]` drifts by a weight or more per block).
import {
  ErrorCode,
  ScalpelError,
  keepCount,
  selectPatternMask,
  selectTopK,
} from '../../src/index.js';
import type { Logger, NMPattern } from '../../src/index.js';
import { Float64Workspace } from './float64-workspace.js';
import { upperCholeskyOfInverseInPlace, upperCholeskyOfInverseOf } from './cholesky.js';

export interface SparseGptLayerInput {
  readonly name: string;
  readonly weights: Float32Array;
  readonly fanIn: number;
  readonly units: number;
  /** Σ x xᵀ over the calibration rows, fanIn × fanIn. */
  readonly gram: ArrayLike<number>;
  /**
   * The Gram matrix is the caller's scratch (a pruner's calibration arrays are its own): U is
   * factored in its buffer, which saves one fanIn × fanIn float64 buffer (75 MB for GPT-2's
   * 3072-wide mlp.c_proj), and the Gram matrix is overwritten. Same bits either way.
   */
  readonly consumeGram?: boolean;
  /**
   * Where the reconstructed kernel goes (fanIn × units), e.g. the pruner's own copy of the
   * weights, read before it is written: no second kernel-sized array per layer. Default: a new one.
   */
  readonly into?: Float32Array;
  /** Scratch arrays shared with the other layers of the same call (default: fresh ones). */
  readonly workspace?: Float64Workspace;
  readonly rows: number;
  /**
   * The layer's mask before this prune (1 = kept), when the model was pruned already: the weights
   * it pruned are never selected, although the error compensation makes them non-zero.
   */
  readonly incoming?: Uint8Array;
  readonly density: number;
  readonly percdamp: number;
  readonly blocksize: number;
  readonly pattern?: NMPattern;
  readonly log?: Logger;
}

export interface SparseGptLayerResult {
  readonly mask: Uint8Array;
  /** Reconstructed kernel, exactly 0 where pruned. */
  readonly weights: Float32Array;
  /** ½ Σ (w − q)²/U_jj²: the OBS estimate of the added squared output error (the reference's "error"). */
  readonly errorEstimate: number;
  /** percdamp actually used (raised when the Cholesky factorisation failed). */
  readonly percdamp: number;
  readonly deadInputs: number;
}

const maxDampingRetries = 8;

export function sparsegptLayer(input: SparseGptLayerInput): SparseGptLayerResult {
  const { name, fanIn: n, units: m, rows, density, blocksize, pattern, incoming } = input;
  if (input.gram.length !== n * n) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `sparsegpt: the Gram matrix of layer '${name}' has ${input.gram.length} entries, expected ${n}×${n}`,
      { layer: name },
    );
  }
  if (!(rows > 0)) {
    throw new ScalpelError(ErrorCode.Stage, `sparsegpt: no calibration rows for layer '${name}'`, {
      layer: name,
      hint: 'calibrate with at least one sample',
    });
  }
  if (pattern !== undefined && blocksize % pattern.of !== 0) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `sparsegpt: blocksize ${blocksize} is not a multiple of pattern.of ${pattern.of}`,
      {
        hint: `use a blocksize that is a multiple of ${pattern.of}, e.g. ${Math.max(pattern.of, Math.round(blocksize / pattern.of) * pattern.of)}`,
      },
    );
  }
  const workspace = input.workspace ?? new Float64Workspace();
  const w = workspace.take('weights', n * m);
  w.set(input.weights);
  // H = (2/rows)·gram is never stored: its entries are read off the Gram matrix as the one n × n
  // buffer of U is filled — or, with consumeGram, U is factored in the Gram matrix's own buffer
  // (GPT-2's 3072-wide inputs: 75 MB per n × n copy).
  const { gram } = input;
  const scale = 2 / rows;
  const diag = new Float64Array(n);
  let deadInputs = 0;
  let diagSum = 0;
  for (let i = 0; i < n; i++) {
    diag[i] = (gram[i * n + i] as number) * scale;
    if (diag[i] === 0) {
      diag[i] = 1;
      w.fill(0, i * m, (i + 1) * m);
      deadInputs++;
    }
    diagSum += diag[i] as number;
  }
  const meanDiag = diagSum / n;

  const inPlace = input.consumeGram === true && gram instanceof Float64Array ? gram : undefined;
  if (inPlace !== undefined) {
    // PAP is the flat array reversed; its lower triangle is what the Cholesky reads, and a copy
    // of it goes to the strict upper triangle so that a retry can start again from it.
    inPlace.reverse();
    for (let i = 0; i < n; i++)
      for (let j = 0; j < i; j++) inPlace[j * n + i] = inPlace[i * n + j] as number;
  }
  /** U for this damping, or undefined if H + damp·I is not numerically positive definite. */
  const factor = (damp: number): Float64Array | undefined => {
    if (inPlace === undefined) {
      return upperCholeskyOfInverseOf(
        (i, j) => (i === j ? (diag[i] as number) + damp : (gram[i * n + j] as number) * scale),
        n,
      );
    }
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      for (let j = 0; j < i; j++) inPlace[ri + j] = (inPlace[j * n + i] as number) * scale;
      inPlace[ri + i] = (diag[n - 1 - i] as number) + damp;
    }
    return upperCholeskyOfInverseInPlace(inPlace, n) ? inPlace : undefined;
  };

  let percdamp = input.percdamp;
  let u: Float64Array | undefined;
  for (let attempt = 0; ; attempt++) {
    u = factor(percdamp * meanDiag);
    if (u !== undefined) break;
    if (attempt === maxDampingRetries) {
      throw new ScalpelError(
        ErrorCode.Stage,
        `sparsegpt: the Hessian of layer '${name}' is not positive definite even with percdamp ${percdamp}`,
        {
          layer: name,
          hint: 'check the calibration data (NaN or constant inputs?) or raise percdamp',
        },
      );
    }
    const next = percdamp > 0 ? percdamp * 10 : 1e-4;
    input.log?.warn(
      `sparsegpt: Cholesky factorisation failed for layer '${name}' with percdamp ${percdamp}; retrying with ${next}`,
      {
        layer: name,
        percdamp,
        next,
      },
    );
    percdamp = next;
  }

  const mask = new Uint8Array(n * m);
  const err = workspace.take('errors', Math.min(blocksize, n) * m);
  let loss = 0;
  for (let i1 = 0; i1 < n; i1 += blocksize) {
    const i2 = Math.min(i1 + blocksize, n);
    if (pattern === undefined) {
      const scores = workspace.take('scores', (i2 - i1) * m);
      for (let i = i1; i < i2; i++) {
        const d = u[i * n + i] as number;
        const d2 = d * d;
        for (let o = 0; o < m; o++) {
          const v = w[i * m + o] as number;
          scores[(i - i1) * m + o] = incoming?.[i * m + o] === 0 ? -Infinity : (v * v) / d2;
        }
      }
      const k = keepCount(density, i2 * m) - keepCount(density, i1 * m);
      mask.set(selectTopK(scores, k), i1 * m);
    }
    for (let i = i1; i < i2; i++) {
      if (pattern !== undefined && i % pattern.of === 0) {
        const g = pattern.of;
        const scores = workspace.take('scores', g * m);
        for (let t = 0; t < g; t++) {
          const d = u[(i + t) * n + (i + t)] as number;
          for (let o = 0; o < m; o++) {
            const v = w[(i + t) * m + o] as number;
            scores[t * m + o] = incoming?.[(i + t) * m + o] === 0 ? -Infinity : (v * v) / (d * d);
          }
        }
        mask.set(selectPatternMask(scores, { fanIn: g, units: m }, pattern, name), i * m);
      }
      const d = u[i * n + i] as number;
      const row = i * m;
      const e = (i - i1) * m;
      for (let o = 0; o < m; o++) {
        const v = w[row + o] as number;
        const q = mask[row + o] === 1 ? v : 0;
        const er = (v - q) / d;
        err[e + o] = er;
        loss += er * er;
      }
      // Propagate this feature's error to the remaining features of the block.
      for (let j = i + 1; j < i2; j++) {
        const c = u[i * n + j] as number;
        if (c === 0) continue;
        const rj = j * m;
        for (let o = 0; o < m; o++) w[rj + o] = (w[rj + o] as number) - c * (err[e + o] as number);
      }
      for (let o = 0; o < m; o++) if (mask[row + o] === 0) w[row + o] = 0;
    }
    // Lazy batch update: the block's errors applied to every later feature in one pass.
    for (let j = i2; j < n; j++) {
      const rj = j * m;
      for (let t = 0; t < i2 - i1; t++) {
        const c = u[(i1 + t) * n + j] as number;
        if (c === 0) continue;
        const e = t * m;
        for (let o = 0; o < m; o++) w[rj + o] = (w[rj + o] as number) - c * (err[e + o] as number);
      }
    }
  }
  const weights = input.into ?? new Float32Array(n * m);
  if (weights.length !== n * m) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `sparsegpt: the output array for layer '${name}' has ${weights.length} entries, expected ${n * m}`,
      { layer: name },
    );
  }
  for (let k = 0; k < n * m; k++) weights[k] = mask[k] === 1 ? (w[k] as number) : 0;
  return { mask, weights, errorEstimate: loss / 2, percdamp, deadInputs };
}
