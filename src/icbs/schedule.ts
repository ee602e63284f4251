// Which layer each step works on (docs: icbs.md): the steps of an epoch are spread over the layers
// in proportion to log10(size) with a minimum per layer, rounded (largest remainder) so they add
// up to `steps`, and the resulting list is shuffled afresh every epoch.
import type { Rng } from '../util/rng.js';

/** Steps per layer for one epoch. */
export function stepsPerLayer(
  sizes: readonly number[],
  steps: number,
  minPerLayer: number,
): number[] {
  const L = sizes.length;
  if (L === 0 || steps <= 0) return sizes.map(() => 0);
  const floor = L * minPerLayer <= steps ? minPerLayer : 0;
  const rest = steps - floor * L;
  const weights = sizes.map((s) => Math.log10(Math.max(s, 2)));
  const total = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (rest * w) / total);
  const counts = exact.map((e) => Math.floor(e));
  let left = rest - counts.reduce((a, b) => a + b, 0);
  // Largest remainders first; ties by layer order.
  const order = exact
    .map((e, i) => ({ r: e - Math.floor(e), i }))
    .sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    counts[i] = (counts[i] as number) + 1;
    left--;
  }
  return counts.map((c) => c + floor);
}

/** The layer index of every step of one epoch, shuffled with `rng`. */
export function epochSchedule(counts: readonly number[], rng: Rng): Int32Array {
  const list: number[] = [];
  counts.forEach((c, i) => {
    for (let t = 0; t < c; t++) list.push(i);
  });
  return rng.shuffle(Int32Array.from(list));
}
