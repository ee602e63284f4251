// Importance scores of one-shot pruning criteria, in the kernel layout [fanIn, units] row-major
// (index i*units + o). Higher score = more important = kept first. Every function returns a fresh
// Float32Array and never modifies its inputs.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Rng } from '../util/rng.js';

function checkSameLength(what: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `${what}: weights have ${a.length} entries, the other operand ${b.length}`,
    );
  }
}

/** |w| — magnitude pruning. */
export function magnitudeScores(weights: Float32Array): Float32Array {
  const s = new Float32Array(weights.length);
  for (let j = 0; j < weights.length; j++) s[j] = Math.abs(weights[j] ?? 0);
  return s;
}

/**
 * |W[i,o]| · ‖X_i‖₂ — Wanda (Sun et al. 2023, arXiv:2306.11695): the weight magnitude times the
 * L2 norm of its input feature over all calibration rows. `inputNorms` has length fanIn.
 */
export function wandaScores(
  weights: Float32Array,
  inputNorms: ArrayLike<number>,
  units: number,
): Float32Array {
  const fanIn = inputNorms.length;
  if (fanIn * units !== weights.length) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `wandaScores: ${inputNorms.length} input norms × ${units} units ≠ ${weights.length} weights`,
    );
  }
  const s = new Float32Array(weights.length);
  for (let i = 0; i < fanIn; i++) {
    const n = inputNorms[i] ?? 0;
    const row = i * units;
    for (let o = 0; o < units; o++) s[row + o] = Math.abs(weights[row + o] ?? 0) * n;
  }
  return s;
}

/** |w ⊙ ḡ| — first-order Taylor importance with the calibration mean gradient ḡ. */
export function gradientScores(
  weights: Float32Array,
  meanGradient: ArrayLike<number>,
): Float32Array {
  checkSameLength('gradientScores', weights, meanGradient);
  const s = new Float32Array(weights.length);
  for (let j = 0; j < weights.length; j++)
    s[j] = Math.abs((weights[j] ?? 0) * (meanGradient[j] ?? 0));
  return s;
}

/**
 * Uniform [0, 1) scores from `rng`: selecting the top ones is a seeded random mask. Float64 so
 * that ties (which would favour low indices) are practically impossible.
 */
export function randomScores(size: number, rng: Rng): Float64Array {
  const s = new Float64Array(size);
  for (let j = 0; j < size; j++) s[j] = rng.float();
  return s;
}
