// SparseGPT's U = upper Cholesky factor of A⁻¹ computed in one n × n buffer: bit for bit what the
// separate factor / invert / reverse steps give (choleskyLower, invertLower, the index reversal
// written out here), UᵀU·A = I against a float64 product written in the test, and undefined for a
// matrix that is not positive definite.
import assert from 'node:assert/strict';
import {
  choleskyLower,
  invertLower,
  upperCholeskyOfInverseOf,
} from '../../plugins/baselines/cholesky.js';
import { Rng } from '../../src/util/rng.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

/** A = BᵀB/k + 0.1·I for a random k × n matrix B: symmetric positive definite. */
function spd(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const k = n + 3;
  const b = Float64Array.from({ length: k * n }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? 0.1 : 0;
      for (let r = 0; r < k; r++) s += ((b[r * n + i] as number) * (b[r * n + j] as number)) / k;
      a[i * n + j] = s;
    }
  return a;
}

describe('sparsegpt: upper Cholesky factor of the inverse in one buffer', () => {
  for (const n of [1, 5, 17]) {
    it(`n = ${n}: the separate steps' bits, and UᵀU·A = I`, () => {
      const a = spd(n, 40 + n);
      const u = upperCholeskyOfInverseOf((i, j) => a[i * n + j] as number, n);
      assert.ok(u !== undefined);
      const reversed = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++)
          reversed[i * n + j] = a[(n - 1 - i) * n + (n - 1 - j)] as number;
      const linv = invertLower(choleskyLower(reversed, n) as Float64Array, n);
      const expected = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = i; j < n; j++)
          expected[i * n + j] = linv[(n - 1 - i) * n + (n - 1 - j)] as number;
      assert.deepEqual(u, expected);
      const product = new Float64Array(n * n);
      const identity = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          // (UᵀU·A)[i][j] = Σ_k Σ_l U[k][i]·U[k][l]·A[l][j]
          let s = 0;
          for (let k = 0; k < n; k++)
            for (let l = 0; l < n; l++)
              s += (u[k * n + i] as number) * (u[k * n + l] as number) * (a[l * n + j] as number);
          product[i * n + j] = s;
          identity[i * n + j] = i === j ? 1 : 0;
        }
      expectArraysClose(product, identity, 1e-9, 'UᵀU·A (row-major)');
    });
  }

  it('is undefined for a matrix that is not positive definite', () => {
    const a = Float64Array.of(1, 2, 2, 1); // eigenvalues 3 and −1
    assert.equal(
      upperCholeskyOfInverseOf((i, j) => a[i * 2 + j] as number, 2),
      undefined,
    );
  });
});
