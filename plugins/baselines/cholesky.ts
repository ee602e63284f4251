// Dense symmetric-positive-definite linear algebra for SparseGPT, in float64 on flat row-major
// arrays (n × n): plain loops ordered so that inner loops run over contiguous memory.

/** Lower Cholesky factor L (A = L Lᵀ), or undefined if A is not numerically positive definite. */
export function choleskyLower(a: Float64Array, n: number): Float64Array | undefined {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let s = a[rj + j] as number;
    for (let k = 0; k < j; k++) {
      const v = l[rj + k] as number;
      s -= v * v;
    }
    if (!(s > 0) || !Number.isFinite(s)) return undefined;
    const d = Math.sqrt(s);
    l[rj + j] = d;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = a[ri + j] as number;
      for (let k = 0; k < j; k++) t -= (l[ri + k] as number) * (l[rj + k] as number);
      l[ri + j] = t / d;
    }
  }
  return l;
}

/** Inverse of a lower-triangular matrix with non-zero diagonal (also lower triangular). */
export function invertLower(l: Float64Array, n: number): Float64Array {
  const x = new Float64Array(n * n);
  const acc = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    acc.fill(0, 0, i);
    // Row i of X: X[i][j] = −(Σ_{k=j}^{i−1} L[i][k] X[k][j]) / L[i][i], accumulated row by row.
    for (let k = 0; k < i; k++) {
      const c = l[ri + k] as number;
      if (c === 0) continue;
      const rk = k * n;
      for (let j = 0; j <= k; j++) acc[j] = (acc[j] as number) + c * (x[rk + j] as number);
    }
    const inv = 1 / (l[ri + i] as number);
    for (let j = 0; j < i; j++) x[ri + j] = -(acc[j] as number) * inv;
    x[ri + i] = inv;
  }
  return x;
}

/**
 * The upper Cholesky factor U of A⁻¹ (A⁻¹ = UᵀU, U upper triangular with positive diagonal) —
 * what SparseGPT calls the Cholesky form of the inverse Hessian — from one factorisation: with P
 * the index reversal, PAP = L̃L̃ᵀ gives A⁻¹ = (P L̃⁻ᵀ P)(P L̃⁻¹ P), so U = P L̃⁻¹ P.
 * Undefined if A is not numerically positive definite.
 */
export function upperCholeskyOfInverse(a: Float64Array, n: number): Float64Array | undefined {
  return upperCholeskyOfInverseOf((i, j) => a[i * n + j] as number, n);
}

/**
 * {@link upperCholeskyOfInverse} of the matrix whose entries `entry(i, j)` gives (a scaled,
 * damped Gram matrix without a copy of it), in ONE n × n buffer (see
 * {@link upperCholeskyOfInverseInPlace}). Undefined if A is not numerically positive definite.
 */
export function upperCholeskyOfInverseOf(
  entry: (i: number, j: number) => number,
  n: number,
): Float64Array | undefined {
  const x = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) x[i * n + j] = entry(n - 1 - i, n - 1 - j);
  }
  return upperCholeskyOfInverseInPlace(x, n) ? x : undefined;
}

/**
 * U = upper Cholesky factor of A⁻¹, written over `x`, whose LOWER triangle (diagonal included)
 * holds PAP (A with rows and columns reversed; the strict upper triangle is ignored and
 * overwritten). PAP is factored in place (L̃ in the lower triangle), L̃ inverted in place row by
 * row (row i of L̃⁻¹ needs row i of L̃ and rows < i of L̃⁻¹ only), and U = P L̃⁻¹ P is the flat
 * array reversed — the same operations in the same order as choleskyLower and invertLower, so the
 * same bits, at a quarter of their memory. Only the lower triangle is read until the end, so a
 * caller may keep a copy of PAP in the strict upper triangle to retry with more damping.
 * Returns false (x then holds garbage in its lower triangle) if A is not numerically positive
 * definite.
 */
export function upperCholeskyOfInverseInPlace(x: Float64Array, n: number): boolean {
  // Cholesky of PAP, in place (reads the lower triangle, each entry before it is overwritten).
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let s = x[rj + j] as number;
    for (let k = 0; k < j; k++) {
      const v = x[rj + k] as number;
      s -= v * v;
    }
    if (!(s > 0) || !Number.isFinite(s)) return false;
    const d = Math.sqrt(s);
    x[rj + j] = d;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = x[ri + j] as number;
      for (let k = 0; k < j; k++) t -= (x[ri + k] as number) * (x[rj + k] as number);
      x[ri + j] = t / d;
    }
  }
  // L̃⁻¹, in place: row i is computed from row i of L̃ and the rows < i already inverted.
  const acc = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    acc.fill(0, 0, i);
    for (let k = 0; k < i; k++) {
      const c = x[ri + k] as number;
      if (c === 0) continue;
      const rk = k * n;
      for (let j = 0; j <= k; j++) acc[j] = (acc[j] as number) + c * (x[rk + j] as number);
    }
    const inv = 1 / (x[ri + i] as number);
    for (let j = 0; j < i; j++) x[ri + j] = -(acc[j] as number) * inv;
    x[ri + i] = inv;
  }
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) if (!Number.isFinite(x[ri + j])) return false;
    // L̃⁻¹ is lower triangular: its strict upper triangle is zero.
    x.fill(0, ri + i + 1, ri + n);
  }
  // U[i][j] = L̃⁻¹[n−1−i][n−1−j]: the flat array reversed.
  x.reverse();
  return true;
}
