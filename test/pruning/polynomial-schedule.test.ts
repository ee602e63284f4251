// TFMOT's PolynomialDecay against its formula, written out here in float64 at every step, hand
// values, and the update steps (every `frequency` from beginStep, plus endStep) by brute force.
import { strict as assert } from 'node:assert';
import {
  isPruningStep,
  polynomialSparsity,
  pruningSteps,
  type PolynomialDecaySpec,
} from '../../src/pruning/polynomial-schedule.js';

/** s_t = s_f + (s_i − s_f)(1 − (t − t0)/(t1 − t0))^p, held at s_i before t0 and s_f after t1. */
function reference(s: PolynomialDecaySpec, t: number): number {
  if (t <= s.beginStep) return s.initialSparsity;
  if (t >= s.endStep) return s.finalSparsity;
  const frac = (t - s.beginStep) / (s.endStep - s.beginStep);
  return s.finalSparsity + (s.initialSparsity - s.finalSparsity) * (1 - frac) ** s.power;
}

const specs: PolynomialDecaySpec[] = [
  { initialSparsity: 0, finalSparsity: 0.95, beginStep: 0, endStep: 400, power: 3, frequency: 25 },
  { initialSparsity: 0.5, finalSparsity: 0.9, beginStep: 7, endStep: 31, power: 1, frequency: 5 },
  { initialSparsity: 0.2, finalSparsity: 0.2, beginStep: 3, endStep: 4, power: 2.5, frequency: 1 },
  {
    initialSparsity: 0.1,
    finalSparsity: 0.8,
    beginStep: 10,
    endStep: 100,
    power: 0.5,
    frequency: 30,
  },
];

describe('polynomial pruning schedule (TFMOT PolynomialDecay)', () => {
  it('equals the formula at every step, before t0 and after t1 included', () => {
    for (const s of specs) {
      for (let t = 0; t <= s.endStep + 20; t++) {
        const got = polynomialSparsity(s, t);
        assert.ok(Math.abs(got - reference(s, t)) <= 1e-15, `t=${t}: ${got} vs ${reference(s, t)}`);
      }
      assert.equal(polynomialSparsity(s, s.endStep), s.finalSparsity, 'exact at endStep');
      assert.equal(polynomialSparsity(s, s.beginStep), s.initialSparsity, 'exact at beginStep');
    }
  });

  it('matches values worked by hand', () => {
    const s = {
      initialSparsity: 0,
      finalSparsity: 0.8,
      beginStep: 0,
      endStep: 10,
      power: 3,
      frequency: 1,
    };
    // t = 5: 0.8 + (0 − 0.8)·0.5³ = 0.8 − 0.1 = 0.7; t = 9: 0.8 − 0.8·0.001 = 0.7992.
    assert.ok(Math.abs(polynomialSparsity(s, 5) - 0.7) < 1e-15);
    assert.ok(Math.abs(polynomialSparsity(s, 9) - 0.7992) < 1e-15);
  });

  it('never decreases between steps', () => {
    for (const s of specs)
      for (let t = 1; t <= s.endStep + 5; t++)
        assert.ok(polynomialSparsity(s, t) >= polynomialSparsity(s, t - 1));
  });

  it('updates at t0, t0 + f, … ≤ t1, and at t1 itself', () => {
    for (const s of specs) {
      const expected: number[] = [];
      for (let t = 0; t <= s.endStep + 50; t++) {
        const onGrid = t >= s.beginStep && t <= s.endStep && (t - s.beginStep) % s.frequency === 0;
        if (onGrid || t === s.endStep) expected.push(t);
      }
      const brute = Array.from({ length: s.endStep + 51 }, (_, t) => t).filter((t) =>
        isPruningStep(s, t),
      );
      assert.deepEqual(brute, expected);
      assert.deepEqual(
        pruningSteps(s).map((p) => p.step),
        expected,
      );
      for (const p of pruningSteps(s)) assert.equal(p.sparsity, polynomialSparsity(s, p.step));
    }
    // 7, 12, 17, 22, 27 and then 31 (not on the grid): the final sparsity is reached.
    assert.deepEqual(
      pruningSteps(specs[1] as PolynomialDecaySpec).map((p) => p.step),
      [7, 12, 17, 22, 27, 31],
    );
  });
});
