// The iCBS block objective as a QUBO: the algebra (folding of linear terms onto the diagonal)
// checked against a direct float64 evaluation of γgᵀδ + ½δᵀHδ + λ‖δ‖².
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import {
  buildBlockQubo,
  directQuadraticModel,
  firstKPruned,
  predictedDeltaL,
  scaleQubo,
  type BlockObjectiveInput,
} from '../../src/icbs/qubo.js';
import { BlockBuffers } from '../../src/icbs/block-buffers.js';

/** Fisher-like H = GᵀG / N (symmetric PSD) or a general non-symmetric matrix. */
function randomBlock(n: number, k: number, rng: Rng, symmetricH = true): BlockObjectiveInput {
  const w0 = Float32Array.from({ length: n }, () => rng.normal() * 0.1);
  const g = Float32Array.from({ length: n }, () => rng.normal() * 0.01);
  const H = new Float64Array(n * n);
  if (symmetricH) {
    const N = 7;
    const G = Array.from({ length: N }, () => Array.from({ length: n }, () => rng.normal()));
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        H[i * n + j] = G.reduce((s, row) => s + (row[i] as number) * (row[j] as number), 0) / N;
  } else {
    for (let i = 0; i < n * n; i++) H[i] = rng.normal();
  }
  return { w0, pruned: firstKPruned(n, k), g, H, gamma: 0.75, lambda: 0.001 };
}

/** The model written out independently: δ = −(d + w0 ⊙ x), d = −w0 ⊙ pruned. */
function model(inp: BlockObjectiveInput, x: Uint8Array): { full: number; noRidge: number } {
  const n = inp.w0.length;
  const delta = Array.from(
    { length: n },
    (_, i) =>
      -(
        -(inp.w0[i] as number) * (inp.pruned[i] as number) +
        (inp.w0[i] as number) * (x[i] as number)
      ),
  );
  let lin = 0;
  let quad = 0;
  let ridge = 0;
  for (let i = 0; i < n; i++) {
    lin += (inp.g[i] as number) * (delta[i] as number);
    ridge += (delta[i] as number) ** 2;
    for (let j = 0; j < n; j++)
      quad += (delta[i] as number) * (inp.H[i * n + j] as number) * (delta[j] as number);
  }
  const noRidge = inp.gamma * lin + 0.5 * quad;
  return { full: noRidge + inp.lambda * ridge, noRidge };
}

function energy(Q: ArrayLike<number>, n: number, x: Uint8Array): number {
  let e = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) e += (Q[i * n + j] as number) * (x[i] as number) * (x[j] as number);
  return e;
}

function randomX(n: number, rng: Rng): Uint8Array {
  return Uint8Array.from({ length: n }, () => rng.int(2));
}

describe('iCBS block QUBO', () => {
  it('xᵀQx + c equals γgᵀδ + ½δᵀHδ + λ‖δ‖² for random x (any number of ones), symmetric and non-symmetric H', () => {
    const rng = new Rng(31);
    for (const symmetricH of [true, false]) {
      for (let t = 0; t < 5; t++) {
        const n = 6 + rng.int(10);
        const inp = randomBlock(n, rng.int(n + 1), rng, symmetricH);
        const b = buildBlockQubo(inp);
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) assert.equal(b.Q[i * n + j], b.Q[j * n + i], 'Q symmetric');
        for (let s = 0; s < 40; s++) {
          const x = randomX(n, rng);
          const ref = model(inp, x);
          const viaQubo = energy(b.Q, n, x) + b.c;
          assert.ok(
            Math.abs(viaQubo - ref.full) <= 1e-12 + 1e-10 * Math.abs(ref.full),
            `${viaQubo} vs ${ref.full}`,
          );
          assert.ok(
            Math.abs(directQuadraticModel(inp, x) - ref.full) <= 1e-12 + 1e-10 * Math.abs(ref.full),
          );
          const pred = predictedDeltaL(b, x);
          assert.ok(
            Math.abs(pred - ref.noRidge) <= 1e-12 + 1e-10 * Math.abs(ref.noRidge),
            'predicted ΔL = γgᵀδ + ½δᵀHδ',
          );
        }
      }
    }
  });

  it('keeping the current state changes nothing: ΔL(x = pruned) = 0', () => {
    const rng = new Rng(32);
    const inp = randomBlock(12, 5, rng);
    const b = buildBlockQubo(inp);
    assert.ok(Math.abs(energy(b.Q, 12, inp.pruned) + b.c) < 1e-14);
    assert.ok(Math.abs(predictedDeltaL(b, inp.pruned)) < 1e-14);
  });

  it('sign check on one entry: pruning a kept weight w costs −γgw + ½Hw² + λw²', () => {
    // One entry, currently kept (d = 0): x = 1 prunes it, δ = −w0.
    const inp: BlockObjectiveInput = {
      w0: Float64Array.of(2),
      pruned: Uint8Array.of(0),
      g: Float64Array.of(0.5),
      H: Float64Array.of(3),
      gamma: 0.75,
      lambda: 0.1,
    };
    const b = buildBlockQubo(inp);
    // γ g δ + ½ H δ² + λ δ² with δ = −2: −0.75 + 6 + 0.4
    assert.ok(Math.abs(energy(b.Q, 1, Uint8Array.of(1)) + b.c - (-0.75 + 6 + 0.4)) < 1e-12);
    assert.equal(b.c, 0);
  });

  it('scaleQubo: mean non-zero |Q| becomes 1, tiny entries are zeroed, negatives kept, energies unscale', () => {
    const rng = new Rng(33);
    const n = 10;
    const b = buildBlockQubo(randomBlock(n, 4, rng));
    const Q = Float64Array.from(b.Q);
    Q[3] = 1e-14 * Math.abs(Q[4] as number); // tiny after scaling as well
    Q[n * 3] = Q[3] as number;
    const { Q: S, scale } = scaleQubo(Q);
    let sum = 0;
    let count = 0;
    let negatives = 0;
    for (const v of S) {
      if (v !== 0) {
        sum += Math.abs(v);
        count++;
      }
      if (v < 0) negatives++;
    }
    assert.equal(S[3], 0);
    assert.equal(S[n * 3], 0);
    assert.ok(negatives > 0);
    // Doc order: scale first (the tiny pair counts among the non-zeros), then zero the tiny pair.
    assert.ok(Math.abs(sum / (count + 2) - 1) < 1e-6, `mean |Q| = ${sum / (count + 2)}`);
    for (let s = 0; s < 20; s++) {
      const x = randomX(n, rng);
      const e = energy(Q, n, x);
      assert.ok(Math.abs(scale * energy(S, n, x) - e) <= 1e-6 * (1 + Math.abs(e)));
    }
    const zero = scaleQubo(new Float64Array(4));
    assert.equal(zero.scale, 1);
    assert.deepEqual(Array.from(zero.Q), [0, 0, 0, 0]);
  });

  it('blocks larger than a tile (n = 150: 64-wide tiles and a partial one), into reused dirty buffers', () => {
    const rng = new Rng(34);
    const n = 150;
    const buffers = new BlockBuffers();
    // Dirty the buffers with a bigger block first: a reused buffer must not leak old entries.
    buildBlockQubo(randomBlock(170, 60, rng), buffers.quboFor(170));
    scaleQubo(buffers.quboFor(170), undefined, buffers.scaledFor(170));
    for (const symmetricH of [true, false]) {
      const inp = randomBlock(n, 70, rng, symmetricH);
      const b = buildBlockQubo(inp, buffers.quboFor(n));
      assert.equal(b.Q.length, n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) assert.equal(b.Q[i * n + j], b.Q[j * n + i], 'Q symmetric');
      for (let t = 0; t < 10; t++) {
        const x = randomX(n, rng);
        const ref = model(inp, x);
        const viaQubo = energy(b.Q, n, x) + b.c;
        assert.ok(Math.abs(viaQubo - ref.full) <= 1e-12 + 1e-10 * Math.abs(ref.full));
      }
      const fresh = scaleQubo(Float64Array.from(b.Q));
      const reused = scaleQubo(b.Q, undefined, buffers.scaledFor(n));
      assert.equal(reused.scale, fresh.scale);
      assert.deepEqual(reused.Q, fresh.Q);
    }
  });
});
