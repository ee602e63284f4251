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
  const reversed = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) reversed[i * n + j] = a[(n - 1 - i) * n + (n - 1 - j)] as number;
  }
  const l = choleskyLower(reversed, n);
  if (l === undefined) return undefined;
  const linv = invertLower(l, n);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) u[i * n + j] = linv[(n - 1 - i) * n + (n - 1 - j)] as number;
  }
  for (const v of u) if (!Number.isFinite(v)) return undefined;
  return u;
}
