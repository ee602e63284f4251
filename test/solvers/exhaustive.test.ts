import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { exhaustive } from '../../src/solvers/exhaustive.js';
import { ScalpelError } from '../../src/errors.js';
import { naiveEnergy, naiveOptimum, ones, randomQ } from './helpers.js';

describe('exhaustive solver', () => {
  it('matches a naive enumeration of all 2^n states on random instances (every k)', async () => {
    const rng = new Rng(21);
    for (let t = 0; t < 12; t++) {
      const n = 1 + rng.int(10);
      const Q = randomQ(n, rng, t % 2 === 1);
      for (let k = 0; k <= n; k++) {
        const r = await exhaustive.solve({ n, k, Q }, {}, { seed: 0 });
        const ref = naiveOptimum(Q, n, k);
        assert.equal(ones(r.x), k);
        assert.ok(Math.abs(r.energy - ref.energy) < 1e-9, `n=${n} k=${k}`);
        assert.ok(Math.abs(r.energy - naiveEnergy(Q, n, r.x)) < 1e-9);
        const C = (a: number, b: number): number => (b === 0 ? 1 : (C(a, b - 1) * (a - b + 1)) / b);
        assert.equal(r.stats?.['states'], Math.round(C(n, k)));
      }
    }
  });

  it('breaks ties deterministically: the first state in increasing bit order', async () => {
    // Q = 0: every state ties; the first with k ones in bit order is x = 1…10…0.
    const r = await exhaustive.solve({ n: 6, k: 2, Q: new Float32Array(36) }, {}, { seed: 0 });
    assert.deepEqual(Array.from(r.x), [1, 1, 0, 0, 0, 0]);
  });

  it('refuses n > 24 with a clear error', async () => {
    const n = 25;
    await assert.rejects(
      exhaustive.solve({ n, k: 3, Q: new Float32Array(n * n) }, {}, { seed: 0 }),
      (e: unknown) =>
        e instanceof ScalpelError &&
        e.code === 'E_STAGE' &&
        /at most 24/.test(e.message) &&
        e.hint !== undefined,
    );
  });
});
