import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { AdamW, adam, decayWeightMatrices } from '../../../src/models/training/adamw.js';
import { Rng } from '../../../src/util/rng.js';

/** The AdamW update in float64, written from the formula (one entry per parameter). */
function referenceAdamW(
  theta: number[],
  grads: number[][],
  rates: number[],
  o: { b1: number; b2: number; eps: number; wd: number },
): number[] {
  const th = [...theta];
  const m = th.map(() => 0);
  const v = th.map(() => 0);
  grads.forEach((g, s) => {
    const t = s + 1;
    const lr = rates[s] as number;
    for (let i = 0; i < th.length; i++) {
      const gi = g[i] as number;
      m[i] = o.b1 * (m[i] as number) + (1 - o.b1) * gi;
      v[i] = o.b2 * (v[i] as number) + (1 - o.b2) * gi * gi;
      const mHat = (m[i] as number) / (1 - o.b1 ** t);
      const vHat = (v[i] as number) / (1 - o.b2 ** t);
      th[i] =
        (th[i] as number) - lr * (mHat / (Math.sqrt(vHat) + o.eps) + o.wd * (th[i] as number));
    }
  });
  return th;
}

function assertClose(
  actual: ArrayLike<number>,
  expected: number[],
  tol: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, what);
  expected.forEach((e, i) => {
    const a = actual[i] as number;
    assert.ok(
      Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)),
      `${what}[${i}]: ${a} vs float64 ${e}`,
    );
  });
}

describe('AdamW', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('follows the float64 AdamW update over several steps: decay on the matrix only, bias-corrected', () => {
    const rng = new Rng(11);
    const w0 = Array.from({ length: 6 }, () => rng.normal());
    const b0 = Array.from({ length: 2 }, () => rng.normal());
    const steps = 5;
    // Gradients of very different scales per step, so that the moments and bias correction matter.
    const gw = Array.from({ length: steps }, (_, s) => w0.map(() => rng.normal() * 10 ** (s - 2)));
    const gb = Array.from({ length: steps }, () => b0.map(() => rng.normal()));
    const rates = [0.1, 0.05, 0.2, 0.01, 0.1];
    const hyper = { b1: 0.8, b2: 0.95, eps: 1e-6 };
    const before = tf.memory().numTensors;
    const w = tf.tidy(() => tf.variable(tf.tensor2d(w0, [3, 2])));
    const b = tf.tidy(() => tf.variable(tf.tensor1d(b0)));
    const opt = new AdamW([w, b], { beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0.3 });
    assert.deepEqual(opt.decayed, [true, false]);
    for (let s = 0; s < steps; s++) {
      const grads = {
        [w.name]: tf.tensor2d(gw[s] as number[], [3, 2]),
        [b.name]: tf.tensor1d(gb[s] as number[]),
      };
      opt.update(grads, rates[s] as number);
      tf.dispose(Object.values(grads));
    }
    assert.equal(opt.step, steps);
    assertClose(w.dataSync(), referenceAdamW(w0, gw, rates, { ...hyper, wd: 0.3 }), 2e-5, 'matrix');
    assertClose(b.dataSync(), referenceAdamW(b0, gb, rates, { ...hyper, wd: 0 }), 2e-5, 'bias');
    opt.dispose();
    tf.dispose([w, b]);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  });

  it('bias correction makes the first step lr·sign(g); a zero gradient leaves only the decay', () => {
    const x = tf.variable(tf.tensor2d([1, -2, 3, -4], [2, 2]));
    const y = tf.variable(tf.tensor1d([5, 6]));
    const opt = new AdamW([x, y], { weightDecay: 0.5, decays: (_v, i) => i === 1 });
    assert.deepEqual(opt.decayed, [false, true]);
    // Step 1: m̂ = g, v̂ = g², so the Adam part is g/(|g|+ε) ≈ ±1 whatever |g| is.
    const g1 = { [x.name]: tf.tensor2d([1e-3, -50, 2, -0.1], [2, 2]), [y.name]: tf.zeros([2]) };
    opt.update(g1, 0.01);
    assertClose(x.dataSync(), [1 - 0.01, -2 + 0.01, 3 - 0.01, -4 + 0.01], 1e-6, 'x after step 1');
    // y: zero gradient ⇒ zero moments ⇒ θ ← θ − lr·wd·θ.
    assertClose(y.dataSync(), [5 * (1 - 0.005), 6 * (1 - 0.005)], 1e-6, 'y after step 1');
    tf.dispose([...Object.values(g1), x, y]);
    opt.dispose();
  });

  it('leaves variables without a gradient alone; plain Adam never decays', () => {
    const x = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]));
    const y = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]));
    const opt = new AdamW([x, y], { weightDecay: 0.1 });
    const g = { [x.name]: tf.ones([2, 2]) };
    opt.update(g, 0.1);
    assert.deepEqual([...y.dataSync()], [1, 2, 3, 4]);
    const plain = adam([x, y]);
    assert.equal(plain.weightDecay, 0);
    assert.deepEqual(plain.decayed, [false, false]);
    const vector = tf.variable(tf.zeros([3]));
    assert.equal(decayWeightMatrices(vector), false);
    assert.equal(decayWeightMatrices(x), true);
    tf.dispose([...Object.values(g), x, y, vector]);
    opt.dispose();
    plain.dispose();
  });

  it('a second optimizer given readState() continues bit-identically', () => {
    const rng = new Rng(5);
    const init = Array.from({ length: 4 }, () => rng.normal());
    const grads = Array.from({ length: 6 }, () => init.map(() => rng.normal()));
    const a = tf.variable(tf.tensor2d(init, [2, 2]));
    const b = tf.variable(tf.tensor2d(init, [2, 2]));
    const optA = new AdamW([a], { weightDecay: 0.01 });
    const optB = new AdamW([b], { weightDecay: 0.01 });
    const step = (opt: AdamW, v: tf.Variable, s: number): void => {
      const g = { [v.name]: tf.tensor2d(grads[s] as number[], [2, 2]) };
      opt.update(g, 0.05);
      tf.dispose(Object.values(g));
    };
    for (let s = 0; s < 3; s++) step(optA, a, s);
    b.assign(a);
    optB.writeState(optA.readState());
    assert.equal(optB.step, 3);
    for (let s = 3; s < 6; s++) {
      step(optA, a, s);
      step(optB, b, s);
    }
    const [va, vb] = [a.dataSync(), b.dataSync()];
    va.forEach((x, i) => assert.ok(Object.is(x, vb[i]), `element ${i}: ${x} vs ${vb[i]}`));
    tf.dispose([a, b]);
    optA.dispose();
    optB.dispose();
  });
});
