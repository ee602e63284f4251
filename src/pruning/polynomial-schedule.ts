// TensorFlow Model Optimization's PolynomialDecay pruning schedule (Zhu & Gupta 2017, "To prune,
// or not to prune"): the sparsity rises from initialSparsity at beginStep to finalSparsity at
// endStep as
//   s_t = s_f + (s_i − s_f) · (1 − (t − t0) / (t1 − t0))^power      for t0 ≤ t ≤ t1,
// and the masks are updated every `frequency` steps from t0 on. Unlike TFMOT, t1 is always an
// update step even when t1 − t0 is not a multiple of the frequency, so the final sparsity is
// reached exactly. A step t counts optimizer updates done (t = 0: before the first update).

export interface PolynomialDecaySpec {
  readonly initialSparsity: number;
  readonly finalSparsity: number;
  readonly beginStep: number;
  readonly endStep: number;
  readonly power: number;
  readonly frequency: number;
}

/** The schedule's sparsity at step t (s_i before t0, s_f after t1). */
export function polynomialSparsity(spec: PolynomialDecaySpec, step: number): number {
  const { initialSparsity: si, finalSparsity: sf, beginStep: t0, endStep: t1, power } = spec;
  const progress = (step - t0) / (t1 - t0);
  // The ends exactly (sf + (si − sf) is not always si in floating point).
  if (progress <= 0) return si;
  if (progress >= 1) return sf;
  return sf + (si - sf) * Math.pow(1 - progress, power);
}

/** True when the masks are updated at step t: t0, t0 + f, t0 + 2f, … up to t1, and t1 itself. */
export function isPruningStep(spec: PolynomialDecaySpec, step: number): boolean {
  if (step < spec.beginStep || step > spec.endStep) return false;
  return step === spec.endStep || (step - spec.beginStep) % spec.frequency === 0;
}

/** Every update step of the schedule with its sparsity, in order (for metrics and plots). */
export function pruningSteps(spec: PolynomialDecaySpec): { step: number; sparsity: number }[] {
  const out: { step: number; sparsity: number }[] = [];
  for (let t = spec.beginStep; t <= spec.endStep; t += spec.frequency)
    out.push({ step: t, sparsity: polynomialSparsity(spec, t) });
  if (out[out.length - 1]?.step !== spec.endStep)
    out.push({ step: spec.endStep, sparsity: polynomialSparsity(spec, spec.endStep) });
  return out;
}
