// Elementwise closeness of two numeric arrays, tfjs-core style: |a − e| ≤ atol + rtol·|e| for
// every index, lengths equal. The failure message names the first bad index and both values, so
// a test need not loop over tolerances itself.
import { AssertionError } from 'node:assert';

export interface Tolerance {
  /** Absolute tolerance (default 1e-6). */
  readonly atol?: number;
  /** Relative tolerance, times |expected| (default 1e-5). */
  readonly rtol?: number;
}

/**
 * Throws an AssertionError unless `actual` and `expected` have the same length and every element
 * is within tolerance. A number `tol` is an absolute tolerance (rtol 0). NaN matches only NaN, an
 * infinity only the same infinity.
 */
export function expectArraysClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number | Tolerance = {},
  what = 'arrays',
): void {
  const { atol, rtol } =
    typeof tol === 'number'
      ? { atol: tol, rtol: 0 }
      : { atol: tol.atol ?? 1e-6, rtol: tol.rtol ?? 1e-5 };
  if (actual.length !== expected.length) {
    throw new AssertionError({
      message: `${what}: length ${actual.length}, expected ${expected.length}`,
      actual: actual.length,
      expected: expected.length,
      operator: 'expectArraysClose',
    });
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const ok =
      Number.isNaN(e) || !Number.isFinite(e)
        ? Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))
        : Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) {
      throw new AssertionError({
        message: `${what}: index ${i}: ${a} is not within ${atol} + ${rtol}·|e| of ${e} (|diff| ${Math.abs(a - e)})`,
        actual: a,
        expected: e,
        operator: 'expectArraysClose',
      });
    }
  }
}
