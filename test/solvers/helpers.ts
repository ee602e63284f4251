// Random QUBO instances and a naive reference for the solver tests.
import { Rng } from '../../src/util/rng.js';

/** A random symmetric float32 Q (normal entries), optionally with ulp-level asymmetry. */
export function randomQ(n: number, rng: Rng, asymmetric = false): Float32Array {
  const Q = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = rng.normal();
      Q[i * n + j] = v;
      Q[j * n + i] = asymmetric && i !== j ? v + 0.3 * rng.normal() : v;
    }
  }
  return Q;
}

/** Plain double loop over all (i, j): the independent reference energy. */
export function naiveEnergy(Q: ArrayLike<number>, n: number, x: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) e += (Q[i * n + j] as number) * (x[i] as number) * (x[j] as number);
  return e;
}

/** Minimum of xᵀQx over all 2^n states with exactly k ones (independent of the exhaustive solver). */
export function naiveOptimum(
  Q: ArrayLike<number>,
  n: number,
  k: number,
): { energy: number; x: Uint8Array } {
  let best = Infinity;
  let bestX = new Uint8Array(n);
  for (let m = 0; m < 2 ** n; m++) {
    const x = new Uint8Array(n);
    let c = 0;
    for (let i = 0; i < n; i++) {
      x[i] = (m >> i) & 1;
      c += x[i] as number;
    }
    if (c !== k) continue;
    const e = naiveEnergy(Q, n, x);
    if (e < best) {
      best = e;
      bestX = x;
    }
  }
  return { energy: best, x: bestX };
}

export function ones(x: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < x.length; i++) c += x[i] as number;
  return c;
}

/** A random 0/1 vector with exactly k ones. */
export function randomState(n: number, k: number, rng: Rng): Uint8Array {
  const p = rng.permutation(n);
  const x = new Uint8Array(n);
  for (let i = 0; i < k; i++) x[p[i] as number] = 1;
  return x;
}
