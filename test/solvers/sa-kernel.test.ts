// The annealer's building blocks: swap ΔE, field updates (JS and WebAssembly), the β schedule.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/util/rng.js';
import {
  annealChain,
  jsFieldKernel,
  localFields,
  swapDelta,
  swapDescent,
  symmetricQubo,
} from '../../src/solvers/sa/anneal.js';
import { betaSchedule } from '../../src/solvers/sa/schedule.js';
import {
  createSharedMemory,
  sharedLayout,
  sharedS,
  WasmChainRunner,
} from '../../src/solvers/sa/wasm-kernel.js';
import { annealWasmBase64 } from '../../src/solvers/sa/wasm/anneal-wasm.js';
import { repoRoot } from '../helpers/paths.js';
import { naiveEnergy, randomQ, randomState } from './helpers.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

describe('sa kernel', () => {
  it('swap ΔE from the local fields equals the brute-force energy difference (asymmetric Q too)', () => {
    const rng = new Rng(1);
    for (const asym of [false, true]) {
      const n = 9;
      const Q = randomQ(n, rng, asym);
      const p = symmetricQubo(Q, n);
      for (let trial = 0; trial < 5; trial++) {
        const x = randomState(n, 4, rng);
        const f = localFields(p, x);
        const e0 = naiveEnergy(Q, n, x);
        for (let a = 0; a < n; a++) {
          for (let b = 0; b < n; b++) {
            if (x[a] !== 1 || x[b] !== 0) continue;
            const y = Uint8Array.from(x);
            y[a] = 0;
            y[b] = 1;
            const brute = naiveEnergy(Q, n, y) - e0;
            // S = Q + Qᵀ is rounded to float32 once per entry: tolerance at that level.
            assert.ok(Math.abs(swapDelta(p, f, a, b) - brute) < 1e-5, `a=${a} b=${b} asym=${asym}`);
          }
        }
      }
    }
  });

  it('field updates keep f = (Q + Qᵀ) x after many swaps, and the wasm kernel is bit-identical to JS', () => {
    const rng = new Rng(2);
    const n = 37; // not a multiple of 4: exercises the scalar tail
    const Q = randomQ(n, rng, true);
    const layout = sharedLayout(n, 2);
    const memory = createSharedMemory(layout);
    const p = symmetricQubo(Q, n, sharedS(memory, layout));
    const x = randomState(n, 15, rng);
    const js = jsFieldKernel(p);
    const wasm = new WasmChainRunner(memory, layout, 1, p).kernel;
    localFields(p, x, js.f);
    localFields(p, x, wasm.f);
    for (let step = 0; step < 500; step++) {
      const onesIdx = [...x.keys()].filter((i) => x[i] === 1);
      const zerosIdx = [...x.keys()].filter((i) => x[i] === 0);
      const a = onesIdx[rng.int(onesIdx.length)] as number;
      const b = zerosIdx[rng.int(zerosIdx.length)] as number;
      js.update(a, b);
      wasm.update(a, b);
      x[a] = 0;
      x[b] = 1;
    }
    assert.deepEqual(Array.from(wasm.f), Array.from(js.f));
    const fresh = localFields(p, x);
    expectArraysClose(js.f.slice(0, n), fresh.slice(0, n), 1e-9, 'local fields');
  });

  it('whole chains are bit-identical in JS (annealChain) and WebAssembly (anneal.wat), for many settings', () => {
    const rng = new Rng(3);
    const cases = [
      { n: 30, k: 11, sweeps: 2, descent: true },
      { n: 37, k: 30, sweeps: 1, descent: false },
      { n: 64, k: 5, sweeps: 1, descent: true },
      { n: 17, k: 16, sweeps: 3, descent: false },
    ];
    for (const c of cases) {
      const Q = randomQ(c.n, rng, c.n % 2 === 1);
      const betas = betaSchedule({ betaInitial: 0.001, betaFinal: 100, betaFactor: 1.1 });
      const layout = sharedLayout(c.n, 2, betas.length);
      const memory = createSharedMemory(layout);
      const p = symmetricQubo(Q, c.n, sharedS(memory, layout));
      const initial = randomState(c.n, c.k, rng);
      const opts = {
        betas,
        sweeps: c.sweeps,
        seedState: Int32Array.from([5, -6, 7, c.n]),
        descent: c.descent,
      };
      const js = annealChain(p, initial, opts, jsFieldKernel(p));
      const runner = new WasmChainRunner(memory, layout, 1, p);
      const wasm = runner.run(initial, opts);
      assert.deepEqual(wasm, js, JSON.stringify(c));
      // the runner can be reused for the next chain of the same problem
      assert.deepEqual(runner.run(initial, opts), js);
      assert.ok(js.accepted > 0);
      assert.ok(
        Math.abs(js.trackedEnergy - naiveEnergy(Q, c.n, js.x)) < 1e-6,
        'tracked energy is that of x',
      );
    }
  });

  it('β schedule: 0.001 × 1.1^t while ≤ 100 (121 temperatures); an exact landing on βfinal is included', () => {
    const b = betaSchedule({ betaInitial: 0.001, betaFinal: 100, betaFactor: 1.1 });
    assert.equal(b.length, 121);
    assert.equal(b[0], 0.001);
    assert.ok((b[120] as number) <= 100 && (b[120] as number) * 1.1 > 100);
    for (let t = 1; t < b.length; t++)
      assert.ok(Math.abs((b[t] as number) / (b[t - 1] as number) - 1.1) < 1e-12);
    assert.deepEqual(
      Array.from(betaSchedule({ betaInitial: 1, betaFinal: 8, betaFactor: 2 })),
      [1, 2, 4, 8],
    );
    assert.deepEqual(
      Array.from(betaSchedule({ betaInitial: 0.1, betaFinal: 0.1, betaFactor: 2 })),
      [0.1],
    );
  });

  it('the committed wasm bytes are the compilation of anneal.wat', async () => {
    const dir = join(repoRoot, 'src', 'solvers', 'sa', 'wasm');
    const gen = (await import(join(dir, 'generate.mjs'))) as {
      compileWat(path: string): Promise<Uint8Array>;
    };
    const bytes = await gen.compileWat(join(dir, 'anneal.wat'));
    assert.equal(Buffer.from(bytes).toString('base64'), annealWasmBase64);
    assert.ok(readFileSync(join(dir, 'anneal-wasm.ts'), 'utf8').includes(annealWasmBase64));
  });
});

describe('sa swap descent', () => {
  it('ends in a state that no single swap improves, with the energy change it reports', () => {
    const rng = new Rng(4);
    for (let t = 0; t < 5; t++) {
      const n = 20 + rng.int(20);
      const k = 1 + rng.int(n - 1);
      const Q = randomQ(n, rng, t % 2 === 1);
      const p = symmetricQubo(Q, n);
      const x = randomState(n, k, rng);
      const e0 = naiveEnergy(Q, n, x);
      const d = swapDescent(p, x, jsFieldKernel(p));
      const e1 = naiveEnergy(Q, n, x);
      assert.ok(d.swaps > 0);
      assert.ok(Math.abs(e1 - e0 - d.deltaE) < 1e-6);
      assert.equal(
        x.reduce((s, v) => s + v, 0),
        k,
      );
      for (let a = 0; a < n; a++) {
        for (let b = 0; b < n; b++) {
          if (x[a] !== 1 || x[b] !== 0) continue;
          const y = Uint8Array.from(x);
          y[a] = 0;
          y[b] = 1;
          assert.ok(naiveEnergy(Q, n, y) >= e1 - 1e-5, `swap ${a}↔${b} would improve`);
        }
      }
    }
  });
});
