// The iCBS block objective as a QUBO (docs: icbs.md, "The block objective").
//
// Sign conventions: x_i = 1 prunes block entry i; the current state p (1 = pruned) gives
// d = w_B − w0_B = −w0 ⊙ p, and the change of weights is δ = new − current = −(d + w0 ⊙ x).
// With u = d + w0 ⊙ x (so δ = −u) and H symmetrised (Hs = (H + Hᵀ)/2, which leaves δᵀHδ as is):
//   γ gᵀδ      = −γ gᵀd − Σ_i γ w0_i g_i x_i
//   ½ δᵀ H δ   = ½ dᵀHs d + Σ_i w0_i (Hs d)_i x_i + ½ xᵀ diag(w0) Hs diag(w0) x
//   λ ‖δ‖²     = λ dᵀd + Σ_i λ w0_i (2 d_i + w0_i) x_i            (x_i² = x_i)
// so ΔL(x) = xᵀQx + c with the linear terms folded onto the diagonal of Q — exactly the doc's
// formula. Q is symmetric. The predicted change of loss leaves the ridge out:
// c + xᵀQx − λ‖δ‖² = γ gᵀδ + ½ δᵀHδ.
import { ErrorCode, ScalpelError } from '../errors.js';

export type Vector = Float32Array | Float64Array;

export interface BlockObjectiveInput {
  /** Original (dense) weights of the block entries. */
  readonly w0: Vector;
  /** Current state of the block entries, 1 = pruned (the iCBS block: the first k are 1). */
  readonly pruned: Uint8Array;
  /** Mean loss gradient at the current weights, restricted to the block. */
  readonly g: Vector;
  /** Hessian approximation restricted to the block, n × n row-major. */
  readonly H: Vector;
  /** gradMultiplier γ. */
  readonly gamma: number;
  /** ridgeMultiplier λ. */
  readonly lambda: number;
}

export interface BlockQubo {
  readonly n: number;
  /** Unscaled Q (float64, symmetric, n × n row-major): ΔL(x) = xᵀQx + c. */
  readonly Q: Float64Array;
  /** The constant ½dᵀHd − γgᵀd + λdᵀd. */
  readonly c: number;
  /** d = −w0 ⊙ pruned. */
  readonly d: Float64Array;
  readonly w0: Vector;
  readonly lambda: number;
}

/** The current state of an iCBS block: the first k of n entries pruned. */
export function firstKPruned(n: number, k: number): Uint8Array {
  const p = new Uint8Array(n);
  p.fill(1, 0, k);
  return p;
}

function checkInput(inp: BlockObjectiveInput): number {
  const n = inp.w0.length;
  const bad = (what: string): never => {
    throw new ScalpelError(ErrorCode.Internal, `iCBS block objective: ${what}`);
  };
  if (inp.pruned.length !== n) bad(`pruned has length ${inp.pruned.length}, expected ${n}`);
  if (inp.g.length !== n) bad(`g has length ${inp.g.length}, expected ${n}`);
  if (inp.H.length !== n * n) bad(`H has ${inp.H.length} entries, expected ${n}×${n}`);
  return n;
}

/** Side of the square tiles Q is filled in: H[j, i] is read within a tile that stays in cache. */
const tile = 64;

/**
 * Builds Q and c of the block objective (float64). `out` (at least n² long, e.g. a buffer reused
 * from step to step: a fresh 128 MB array for n = 4096 costs more in page faults than the
 * arithmetic) receives Q; its first n² entries are overwritten.
 */
export function buildBlockQubo(inp: BlockObjectiveInput, out?: Float64Array): BlockQubo {
  const n = checkInput(inp);
  const { w0, g, H, gamma, lambda } = inp;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = inp.pruned[i] !== 0 ? -(w0[i] as number) : 0;

  // Hs d = ½(H d + Hᵀ d), both by contiguous row passes; only the pruned entries have d ≠ 0.
  const Hd = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const dj = d[j] as number;
    if (dj === 0) continue;
    const row = j * n;
    for (let i = 0; i < n; i++) Hd[i] = (Hd[i] as number) + 0.5 * (H[row + i] as number) * dj;
  }
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let s = 0;
    for (let j = 0; j < n; j++) {
      const dj = d[j] as number;
      if (dj !== 0) s += (H[row + j] as number) * dj;
    }
    Hd[i] = (Hd[i] as number) + 0.5 * s;
  }
  let c = 0;
  for (let i = 0; i < n; i++) {
    const di = d[i] as number;
    c += 0.5 * di * (Hd[i] as number) - gamma * (g[i] as number) * di + lambda * di * di;
  }

  if (out !== undefined && out.length < n * n) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `iCBS block objective: out has ${out.length} < n² entries`,
    );
  }
  const Q = out !== undefined ? out.subarray(0, n * n) : new Float64Array(n * n);
  // ½ w0_i Hs_ij w0_j on the upper triangle, mirrored (Q exactly symmetric), tile by tile.
  for (let i0 = 0; i0 < n; i0 += tile) {
    const i1 = Math.min(n, i0 + tile);
    for (let j0 = i0; j0 < n; j0 += tile) {
      const j1 = Math.min(n, j0 + tile);
      for (let i = i0; i < i1; i++) {
        const wi = 0.5 * (w0[i] as number);
        const row = i * n;
        for (let j = Math.max(i, j0); j < j1; j++) {
          const hs = ((H[row + j] as number) + (H[j * n + i] as number)) * 0.5;
          const v = wi * hs * (w0[j] as number);
          Q[row + j] = v;
          Q[j * n + i] = v;
        }
      }
    }
  }
  for (let i = 0; i < n; i++) {
    const wi = w0[i] as number;
    const di = d[i] as number;
    Q[i * n + i] =
      (Q[i * n + i] as number) +
      wi * (Hd[i] as number) -
      gamma * wi * (g[i] as number) +
      lambda * wi * (2 * di + wi);
  }
  return { n, Q, c, d, w0, lambda };
}

export interface ScaledQubo {
  /** Q / scale as float32, entries with |value| ≤ zeroTolerance set to 0 (negatives kept). */
  readonly Q: Float32Array;
  /** Divide-by factor: unscaled energy = scale × scaled energy (1 when Q is all zero). */
  readonly scale: number;
}

/**
 * Scales Q so that the mean of its non-zero |Q_ij| is 1 (the annealing schedule assumes that
 * scale), then zeroes entries with |Q_ij| ≤ zeroTolerance (after scaling). `out` (at least
 * Q.length long, reusable) receives the result.
 */
export function scaleQubo(Q: Vector, zeroTolerance = 1e-12, out?: Float32Array): ScaledQubo {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < Q.length; i++) {
    const a = Math.abs(Q[i] as number);
    if (a !== 0) {
      sum += a;
      count++;
    }
  }
  const scale = count > 0 ? sum / count : 1;
  if (out !== undefined && out.length < Q.length) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `scaleQubo: out has ${out.length} < ${Q.length} entries`,
    );
  }
  const S = out !== undefined ? out.subarray(0, Q.length) : new Float32Array(Q.length);
  for (let i = 0; i < Q.length; i++) {
    const v = (Q[i] as number) / scale;
    S[i] = Math.abs(v) <= zeroTolerance ? 0 : v;
  }
  return { Q: S, scale };
}

/** δ(x) = −(d + w0 ⊙ x). */
export function blockDelta(d: Float64Array, w0: Vector, x: ArrayLike<number>): Float64Array {
  const delta = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) {
    delta[i] = -((d[i] as number) + (w0[i] as number) * (x[i] as number));
  }
  return delta;
}

/** xᵀQx in float64 (any dense row-major Q). */
function energy(Q: Vector, n: number, x: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < n; i++) {
    if (x[i] === 0) continue;
    for (let j = 0; j < n; j++) if (x[j] !== 0) e += Q[i * n + j] as number;
  }
  return e;
}

/** The predicted change of loss of decision x: c + xᵀQx − λ‖δ‖² (= γgᵀδ + ½δᵀHδ). */
export function predictedDeltaL(block: BlockQubo, x: ArrayLike<number>): number {
  const delta = blockDelta(block.d, block.w0, x);
  let norm2 = 0;
  for (let i = 0; i < delta.length; i++) norm2 += (delta[i] as number) ** 2;
  return block.c + energy(block.Q, block.n, x) - block.lambda * norm2;
}

/** Direct evaluation of γgᵀδ + ½δᵀHδ + λ‖δ‖² (float64), the truth the QUBO must reproduce. */
export function directQuadraticModel(inp: BlockObjectiveInput, x: ArrayLike<number>): number {
  const n = checkInput(inp);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = inp.pruned[i] !== 0 ? -(inp.w0[i] as number) : 0;
  const delta = blockDelta(d, inp.w0, x);
  let lin = 0;
  let quad = 0;
  let norm2 = 0;
  for (let i = 0; i < n; i++) {
    const di = delta[i] as number;
    lin += (inp.g[i] as number) * di;
    norm2 += di * di;
    let row = 0;
    for (let j = 0; j < n; j++) row += (inp.H[i * n + j] as number) * (delta[j] as number);
    quad += di * row;
  }
  return inp.gamma * lin + 0.5 * quad + inp.lambda * norm2;
}
