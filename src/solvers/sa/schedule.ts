// The inverse-temperature schedule of the cardinality-constrained annealer.

export interface SaSchedule {
  readonly betaInitial: number;
  readonly betaFinal: number;
  readonly betaFactor: number;
}

/**
 * β_t = betaInitial · betaFactor^t for t = 0, 1, …, as long as β_t ≤ betaFinal (a relative
 * tolerance of 1e-9 lets a product that should land exactly on betaFinal count). betaFinal itself
 * is therefore included only when the product reaches it; the defaults (0.001 → 100, × 1.1) give
 * 121 temperatures, the last one 0.001 · 1.1^120 ≈ 92.6. Computed by repeated multiplication
 * (exact IEEE arithmetic: identical on every platform). betaInitial > betaFinal gives one
 * temperature, betaInitial.
 */
export function betaSchedule(s: SaSchedule): Float64Array {
  const out: number[] = [s.betaInitial];
  if (s.betaFactor > 1) {
    const limit = s.betaFinal * (1 + 1e-9);
    let b = s.betaInitial * s.betaFactor;
    while (b <= limit) {
      out.push(b);
      b *= s.betaFactor;
    }
  }
  return Float64Array.from(out);
}
