// From importance scores to an exact keep-mask (1 = keep) in the kernel layout [fanIn, units]
// row-major (index i*units + o; a column is one output unit, a row one input feature).
//
// Exact density — the rounding rule. A group of `size` weights at density d keeps
//     keepCount(d, size) = ⌊d·size + ½⌋            (round half up, clamped to [0, size])
// evaluated in float64 with a 1e-9 tolerance, so that products such as 0.15·10 = 1.4999… behave
// as written (→ 2). The group is what the granularity says:
//   layer       the whole layer keeps keepCount(d, fanIn·units)
//   per-output  every output unit (column) keeps keepCount(d, fanIn) — the same count for all
//   per-input   every input feature (row) keeps keepCount(d, units)
//   global      all layers together keep round(Σ_l d_l·size_l) (one threshold across layers;
//               with one density d that is keepCount(d, Σ size_l))
//   pattern N:M every output unit keeps exactly N of each group of M consecutive input rows
//               (fanIn must be a multiple of M; the density is N/M)
// Selection keeps the highest scores; ties are broken by index (lower flat index kept first; in
// `global` by layer order, then index), so equal inputs always give equal masks. NaN scores rank
// below everything (they are pruned first).
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Mask } from '../plugin-api/layers.js';

export type Scores = Float32Array | Float64Array;
export type Granularity = 'layer' | 'per-output' | 'per-input' | 'global';

/** Semi-structured sparsity: keep `keep` of every `of` consecutive input weights of an output unit. */
export interface NMPattern {
  readonly keep: number;
  readonly of: number;
}

export interface KernelShape {
  readonly fanIn: number;
  readonly units: number;
}

export interface MaskSpec {
  /** Fraction of weights to keep (ignored when `pattern` is given: the density is keep/of). */
  readonly density: number;
  /** Default 'layer'. For 'global' use selectGlobalMasks. */
  readonly granularity?: Exclude<Granularity, 'global'>;
  readonly pattern?: NMPattern;
  /** Layer name, used in error messages. */
  readonly label?: string;
}

/** Number of weights a group of `size` keeps at `density` (see the rounding rule above). */
export function keepCount(density: number, size: number): number {
  if (!Number.isFinite(density) || density < 0 || density > 1) {
    throw new ScalpelError(ErrorCode.Internal, `density must be in [0, 1], got ${density}`);
  }
  return Math.min(size, Math.max(0, Math.floor(density * size + 0.5 + 1e-9)));
}

/** Reusable buffers so that selecting within many small groups does not allocate per group. */
class Scratch {
  private values = new Float64Array(0);
  private sorted = new Float64Array(0);
  buffers(n: number): [Float64Array, Float64Array] {
    if (this.values.length < n) {
      this.values = new Float64Array(n);
      this.sorted = new Float64Array(n);
    }
    return [this.values.subarray(0, n), this.sorted.subarray(0, n)];
  }
}

/**
 * Keep the `k` highest of the `count` scores at start, start+stride, … (ties → lower index) by
 * writing 1 into `mask` at those positions. Other positions of the group are left untouched.
 */
function keepTopK(
  scores: ArrayLike<number>,
  start: number,
  stride: number,
  count: number,
  k: number,
  mask: Uint8Array,
  scratch: Scratch,
): void {
  if (k <= 0) return;
  if (k >= count) {
    for (let t = 0; t < count; t++) mask[start + t * stride] = 1;
    return;
  }
  const [values, sorted] = scratch.buffers(count);
  for (let t = 0; t < count; t++) {
    const v = scores[start + t * stride] ?? Number.NaN;
    values[t] = Number.isNaN(v) ? -Infinity : v;
  }
  sorted.set(values);
  sorted.sort();
  const threshold = sorted[count - k] ?? -Infinity; // the k-th highest score
  let above = 0;
  for (let t = 0; t < count; t++) if ((values[t] ?? 0) > threshold) above++;
  let tiesToKeep = k - above;
  for (let t = 0; t < count; t++) {
    const v = values[t] ?? 0;
    if (v > threshold || (v === threshold && tiesToKeep-- > 0)) mask[start + t * stride] = 1;
  }
}

function checkShape(scores: Scores, shape: KernelShape, label: string | undefined): void {
  if (shape.fanIn * shape.units !== scores.length) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `${label ?? 'layer'}: ${scores.length} scores for a ${shape.fanIn}×${shape.units} kernel`,
      label !== undefined ? { layer: label } : {},
    );
  }
}

/** Throws a clear error when a pattern is malformed or does not fit the layer's fan-in. */
export function checkPatternFits(pattern: NMPattern, fanIn: number, label?: string): void {
  const { keep, of } = pattern;
  if (!Number.isInteger(keep) || !Number.isInteger(of) || of < 1 || keep < 0 || keep > of) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `pattern { keep: ${keep}, of: ${of} } is invalid`,
      {
        hint: 'use whole numbers with 0 ≤ keep ≤ of, e.g. { keep: 2, of: 4 }',
      },
    );
  }
  if (fanIn % of !== 0) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `pattern ${keep}:${of} needs a fan-in divisible by ${of}, but ${label !== undefined ? `layer '${label}'` : 'the layer'} has fan-in ${fanIn}`,
      {
        ...(label !== undefined ? { layer: label } : {}),
        hint: `exclude the layer (layers.exclude) or choose a group size that divides ${fanIn}`,
      },
    );
  }
}

/** N:M mask: every output unit keeps exactly `keep` of each `of` consecutive input rows. */
export function selectPatternMask(
  scores: Scores,
  shape: KernelShape,
  pattern: NMPattern,
  label?: string,
): Mask {
  checkShape(scores, shape, label);
  checkPatternFits(pattern, shape.fanIn, label);
  const { fanIn, units } = shape;
  const mask = new Uint8Array(scores.length);
  const scratch = new Scratch();
  for (let o = 0; o < units; o++) {
    for (let g = 0; g < fanIn; g += pattern.of) {
      keepTopK(scores, g * units + o, units, pattern.of, pattern.keep, mask, scratch);
    }
  }
  return mask;
}

/** Keep-mask of one layer for granularity layer | per-output | per-input, or an N:M pattern. */
export function selectMask(scores: Scores, shape: KernelShape, spec: MaskSpec): Mask {
  if (spec.pattern !== undefined) return selectPatternMask(scores, shape, spec.pattern, spec.label);
  checkShape(scores, shape, spec.label);
  const { fanIn, units } = shape;
  const mask = new Uint8Array(scores.length);
  const scratch = new Scratch();
  switch (spec.granularity ?? 'layer') {
    case 'layer':
      keepTopK(scores, 0, 1, scores.length, keepCount(spec.density, scores.length), mask, scratch);
      break;
    case 'per-output': {
      const k = keepCount(spec.density, fanIn);
      for (let o = 0; o < units; o++) keepTopK(scores, o, units, fanIn, k, mask, scratch);
      break;
    }
    case 'per-input': {
      const k = keepCount(spec.density, units);
      for (let i = 0; i < fanIn; i++) keepTopK(scores, i * units, 1, units, k, mask, scratch);
      break;
    }
  }
  return mask;
}

/** Keep exactly the `k` highest scores of the whole array (ties → lower index). */
export function selectTopK(scores: Scores, k: number): Mask {
  const mask = new Uint8Array(scores.length);
  keepTopK(
    scores,
    0,
    1,
    scores.length,
    Math.max(0, Math.min(scores.length, Math.floor(k))),
    mask,
    new Scratch(),
  );
  return mask;
}

export interface GlobalEntry {
  readonly name: string;
  readonly scores: Scores;
  /** This layer's density; the budget is round(Σ density·size) over all entries. */
  readonly density: number;
}

/** Total number of weights `global` keeps over `entries` (see the rounding rule above). */
export function globalKeepCount(entries: readonly { density: number; size: number }[]): number {
  let budget = 0;
  let total = 0;
  for (const e of entries) {
    keepCount(e.density, e.size); // validates the density
    budget += e.density * e.size;
    total += e.size;
  }
  return Math.min(total, Math.max(0, Math.floor(budget + 0.5 + 1e-9)));
}

/**
 * One threshold across all layers: the highest-scoring weights over the union are kept, exactly
 * globalKeepCount of them. Scores must be comparable across layers (e.g. |w|).
 */
export function selectGlobalMasks(entries: readonly GlobalEntry[]): Map<string, Mask> {
  const total = entries.reduce((a, e) => a + e.scores.length, 0);
  const all = new Float64Array(total);
  let offset = 0;
  for (const e of entries) {
    all.set(e.scores, offset);
    offset += e.scores.length;
  }
  const k = globalKeepCount(entries.map((e) => ({ density: e.density, size: e.scores.length })));
  const joint = new Uint8Array(total);
  keepTopK(all, 0, 1, total, k, joint, new Scratch());
  const masks = new Map<string, Mask>();
  offset = 0;
  for (const e of entries) {
    masks.set(e.name, joint.slice(offset, offset + e.scores.length));
    offset += e.scores.length;
  }
  return masks;
}

/** Number of ones in a mask. */
export function countKept(mask: Mask): number {
  let n = 0;
  for (let j = 0; j < mask.length; j++) n += mask[j] === 1 ? 1 : 0;
  return n;
}
