// Deterministic top-k selection by score without sorting everything: the candidates with the k
// largest scores (ties → lower index first), returned in increasing index order. O(n) expected
// (quickselect on a copy of the scores) — block selection runs it on every step over whole layers.

/** In-place quickselect: after it, a[kth] is the value of rank kth in ascending order. */
function quickselect(a: Float64Array, kth: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    // Median of three as pivot (deterministic).
    const mid = (lo + hi) >>> 1;
    const x = a[lo] as number;
    const y = a[mid] as number;
    const z = a[hi] as number;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (kth <= j) hi = j;
    else if (kth >= i) lo = i;
    else break;
  }
  return a[kth] as number;
}

/**
 * The `k` candidates with the largest `sign × score` (sign −1: the smallest scores), ties broken
 * by lower index; NaN scores rank last. `candidates` must be in increasing index order; so is
 * the result.
 */
export function topKBy(
  candidates: Int32Array,
  scores: ArrayLike<number>,
  k: number,
  sign: 1 | -1,
): Int32Array {
  const n = candidates.length;
  if (k <= 0) return new Int32Array(0);
  if (k >= n) return Int32Array.from(candidates).sort();
  const keys = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const v = sign * (scores[candidates[t] as number] as number);
    keys[t] = Number.isNaN(v) ? -Infinity : v;
  }
  const work = Float64Array.from(keys);
  const threshold = quickselect(work, n - k); // the k-th largest key
  let above = 0;
  for (let t = 0; t < n; t++) if ((keys[t] as number) > threshold) above++;
  let ties = k - above;
  const out = new Int32Array(k);
  let o = 0;
  // Candidates come in increasing index order, so "ties → lower index" is a left-to-right scan.
  for (let t = 0; t < n; t++) {
    const v = keys[t] as number;
    if (v > threshold || (v === threshold && ties-- > 0)) out[o++] = candidates[t] as number;
  }
  return out;
}
