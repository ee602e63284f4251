// The `sa` solver end to end: optimality on small instances, cardinality, determinism,
// independence from the number of workers, edge cases.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildRoot } from '../helpers/paths.js';
import { Rng } from '../../src/util/rng.js';
import { SaSolver } from '../../src/solvers/sa/index.js';
import { ScalpelError } from '../../src/errors.js';
import { naiveEnergy, naiveOptimum, ones, randomQ, randomState } from './helpers.js';

describe('sa solver', function () {
  this.timeout(20000);
  const solver = new SaSolver();
  after(() => solver.close());

  for (const descent of [false, true]) {
    it(`reaches the exhaustive optimum on ≥ 90% of 30 random instances (n ≤ 16), never worse than the start, always k ones (descent: ${descent})`, async () => {
      const rng = new Rng(11);
      let optimal = 0;
      for (let t = 0; t < 30; t++) {
        const n = 8 + rng.int(9);
        const k = 1 + rng.int(n - 1);
        const Q = randomQ(n, rng);
        const initial = randomState(n, k, rng);
        const opt = naiveOptimum(Q, n, k);
        const r = await solver.solve(
          { n, k, Q, initial },
          { workers: t % 3, descent },
          { seed: t },
        );
        assert.equal(r.x.length, n);
        assert.equal(ones(r.x), k);
        assert.ok(r.x.every((v) => v === 0 || v === 1));
        assert.ok(
          Math.abs(r.energy - naiveEnergy(Q, n, r.x)) < 1e-9,
          'reported energy is that of x',
        );
        assert.ok(
          r.energy <= naiveEnergy(Q, n, initial) + 1e-9,
          'never worse than the initial state',
        );
        assert.ok(r.energy >= opt.energy - 1e-9);
        if (r.energy <= opt.energy + 1e-9 * Math.abs(opt.energy)) optimal++;
      }
      assert.ok(optimal >= 27, `optimal on ${optimal}/30`);
    });
  }

  it('same seed → identical answer; the answer does not depend on the number of workers', async () => {
    const rng = new Rng(12);
    const n = 64;
    const k = 20;
    const Q = randomQ(n, rng);
    const runs = [];
    for (const workers of [0, 1, 2, 3, 2]) {
      runs.push(await solver.solve({ n, k, Q }, { workers, restarts: 7 }, { seed: 99 }));
    }
    for (const r of runs.slice(1)) {
      assert.deepEqual(Array.from(r.x), Array.from(runs[0]?.x ?? []));
      assert.equal(r.energy, runs[0]?.energy);
      assert.equal(r.stats?.['bestRestart'], runs[0]?.stats?.['bestRestart']);
    }
    // a different seed explores differently (counts of accepted moves differ)
    const other = await solver.solve({ n, k, Q }, { workers: 2, restarts: 7 }, { seed: 100 });
    assert.notEqual(other.stats?.['accepted'], runs[0]?.stats?.['accepted']);
  });

  it('concurrent solve calls on one pool give the same answers as sequential ones', async () => {
    const rng = new Rng(13);
    const problems = [0, 1, 2].map(() => ({ n: 40, k: 13, Q: randomQ(40, rng) }));
    const seq = [];
    for (const p of problems)
      seq.push(await solver.solve(p, { restarts: 5, workers: 2 }, { seed: 3 }));
    const par = await Promise.all(
      problems.map((p) => solver.solve(p, { restarts: 5, workers: 2 }, { seed: 3 })),
    );
    for (let i = 0; i < 3; i++)
      assert.deepEqual(Array.from(par[i]?.x ?? []), Array.from(seq[i]?.x ?? []));
  });

  it('the final descent never makes the answer worse than the plain annealer (same seed)', async () => {
    const rng = new Rng(15);
    for (let t = 0; t < 4; t++) {
      const n = 48;
      const Q = randomQ(n, rng);
      const plain = await solver.solve(
        { n, k: 20, Q },
        { restarts: 3, descent: false },
        { seed: t },
      );
      const polished = await solver.solve({ n, k: 20, Q }, { restarts: 3 }, { seed: t });
      assert.ok(polished.energy <= plain.energy + 1e-9);
      assert.equal(plain.stats?.['descentSwaps'], 0);
    }
  });

  it('edge cases: k = 0, k = n, n = 1, Q all zeros', async () => {
    const rng = new Rng(14);
    const Q5 = randomQ(5, rng);
    const k0 = await solver.solve({ n: 5, k: 0, Q: Q5 }, {}, { seed: 1 });
    assert.deepEqual(Array.from(k0.x), [0, 0, 0, 0, 0]);
    assert.equal(k0.energy, 0);
    const kn = await solver.solve({ n: 5, k: 5, Q: Q5 }, {}, { seed: 1 });
    assert.deepEqual(Array.from(kn.x), [1, 1, 1, 1, 1]);
    assert.ok(Math.abs(kn.energy - naiveEnergy(Q5, 5, kn.x)) < 1e-12);
    const one = await solver.solve({ n: 1, k: 1, Q: Float32Array.of(-2.5) }, {}, { seed: 1 });
    assert.deepEqual(Array.from(one.x), [1]);
    assert.equal(one.energy, -2.5);
    const zero = await solver.solve(
      { n: 12, k: 4, Q: new Float32Array(144) },
      { workers: 1 },
      { seed: 1 },
    );
    assert.equal(ones(zero.x), 4);
    assert.equal(zero.energy, 0);
  });

  it('idle worker threads do not keep a process alive (no close() needed for a CLI run to exit)', () => {
    const url = pathToFileURL(join(buildRoot, 'src', 'solvers', 'index.js')).href;
    const script = `import { sa } from ${JSON.stringify(url)};
      const n = 30, Q = new Float32Array(n * n).map((_, i) => Math.sin(i));
      const r = await sa.solve({ n, k: 10, Q }, { workers: 2, restarts: 4 }, { seed: 1 });
      console.log(r.x.reduce((s, v) => s + v, 0));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 15000,
      encoding: 'utf8',
    });
    assert.equal(out.trim(), '10');
  });

  it('rejects invalid parameters and inconsistent problems with clear errors', async () => {
    const Q = new Float32Array(16);
    await assert.rejects(
      solver.solve({ n: 4, k: 2, Q }, { restarts: 0 }, { seed: 1 }),
      (e: unknown) =>
        e instanceof ScalpelError && e.code === 'E_RECIPE_SCHEMA' && /restarts/.test(e.message),
    );
    await assert.rejects(
      solver.solve({ n: 4, k: 2, Q }, { betaFactor: 1 }, { seed: 1 }),
      /betaFactor/,
    );
    await assert.rejects(
      solver.solve({ n: 4, k: 2, Q }, { tempo: 3 }, { seed: 1 }),
      /unknown parameter 'tempo'/,
    );
    await assert.rejects(
      solver.solve({ n: 4, k: 2, Q, initial: Uint8Array.of(1, 1, 1, 0) }, {}, { seed: 1 }),
      /initial state has 3 ones/,
    );
    await assert.rejects(solver.solve({ n: 4, k: 5, Q }, {}, { seed: 1 }), /k must be/);
  });
});
