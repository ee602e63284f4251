import { strict as assert } from 'node:assert';
import { Rng } from '../../src/util/rng.js';

describe('Rng', () => {
  it('is deterministic per seed and nearby seeds give unrelated first draws', () => {
    assert.equal(new Rng(5).nextUint32(), new Rng(5).nextUint32());
    const firsts = Array.from({ length: 64 }, (_, s) => new Rng(s).float());
    const mean = firsts.reduce((a, b) => a + b, 0) / firsts.length;
    // 64 uniform draws: mean within ±0.15 of 0.5 with overwhelming probability (sd ≈ 0.036).
    assert.ok(Math.abs(mean - 0.5) < 0.15, `mean of first draws ${mean}`);
    assert.equal(new Set(firsts).size, 64);
  });

  it('int(n) is uniform: chi-square over 10 bins stays small', () => {
    const rng = new Rng(1);
    const counts = new Array<number>(10).fill(0);
    const draws = 100_000;
    for (let i = 0; i < draws; i++) counts[rng.int(10)]! += 1;
    const expected = draws / 10;
    const chi2 = counts.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
    assert.ok(chi2 < 30, `chi2 ${chi2}`); // 9 dof: p(chi2 > 30) ≈ 4e-4
  });

  it('shuffle is a permutation and fork gives an independent stream', () => {
    const p = new Rng(3).permutation(100);
    assert.deepEqual(
      [...p].sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i),
    );
    const a = new Rng(3);
    const b = a.fork('child');
    assert.notEqual(a.nextUint32(), b.nextUint32());
  });
});
