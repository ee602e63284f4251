// SparseGPT against independent computations: the Cholesky form of H⁻¹ checked by UᵀU·H = I;
// the whole algorithm against a plain sequential OBS loop with an explicit inverse Hessian
// (no Cholesky, no blocks, no lazy updates); the layer reconstruction error ‖XW − XŴ‖² on the
// real calibration inputs below Wanda's and magnitude's; density 1 leaves W as it was; dead
// inputs; the dampening retry; and the time for 784×512 and 512×512 layers.
import { layersModelOf } from '../helpers/models.js';
import { builtinFamilyLookup } from '../../src/models/families.js';
import assert from 'node:assert/strict';
import { readModelArtifact } from '../../src/models/model-artifact.js';
import { Rng } from '../../src/util/rng.js';
import { keepCount } from '../../src/pruning/select-mask.js';
import { upperCholeskyOfInverse } from '../../plugins/baselines/cholesky.js';
import { sparsegptLayer } from '../../plugins/baselines/sparsegpt-layer.js';
import { sparsegptPruner } from '../../plugins/baselines/sparsegpt.js';
import { wandaPruner } from '../../plugins/baselines/wanda.js';
import { magnitudePruner } from '../../plugins/baselines/magnitude.js';
import type { NMPattern } from '../../src/pruning/select-mask.js';
import { pruneFixture, type PruneFixture } from '../conformance/fixture.js';
import { callPruner, layersOf, quietLog } from './direct-call.js';

type Matrix = { rows: number; cols: number; data: Float64Array };

function gramOf(x: Matrix): Float64Array {
  const n = x.cols;
  const g = new Float64Array(n * n);
  for (let r = 0; r < x.rows; r++) {
    for (let i = 0; i < n; i++) {
      const xi = x.data[r * n + i] as number;
      if (xi === 0) continue;
      for (let j = 0; j < n; j++)
        g[i * n + j] = (g[i * n + j] as number) + xi * (x.data[r * n + j] as number);
    }
  }
  return g;
}

/** Gauss–Jordan inverse with partial pivoting (float64). */
function invert(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++)
      if (Math.abs(m[r * n + c] as number) > Math.abs(m[p * n + c] as number)) p = r;
    for (const t of [m, inv])
      for (let k = 0; k < n; k++)
        [t[c * n + k], t[p * n + k]] = [t[p * n + k] as number, t[c * n + k] as number];
    const d = m[c * n + c] as number;
    for (let k = 0; k < n; k++) {
      m[c * n + k] = (m[c * n + k] as number) / d;
      inv[c * n + k] = (inv[c * n + k] as number) / d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c] as number;
      if (f === 0) continue;
      for (let k = 0; k < n; k++) {
        m[r * n + k] = (m[r * n + k] as number) - f * (m[c * n + k] as number);
        inv[r * n + k] = (inv[r * n + k] as number) - f * (inv[c * n + k] as number);
      }
    }
  }
  return inv;
}

/**
 * Textbook sequential OBS (what SparseGPT computes, written the slow obvious way): keep the full
 * inverse Hessian, after each input feature j remove it by Hinv ← Hinv − Hinv[:,j]Hinv[j,:]/Hinv[j,j].
 * The mask of a block (or N:M group) is chosen by w²/Hinv_jj with Hinv_jj at the time feature j is
 * reached — which does not depend on the weights, so it is computed up front.
 */
function referenceObs(
  w0: Float32Array,
  n: number,
  m: number,
  gram: ArrayLike<number>,
  rows: number,
  density: number,
  percdamp: number,
  blocksize: number,
  pattern?: NMPattern,
): { mask: Uint8Array; weights: Float64Array } {
  const h = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) h[k] = ((gram[k] as number) * 2) / rows;
  const w = Float64Array.from(w0);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    if (h[i * n + i] === 0) {
      h[i * n + i] = 1;
      w.fill(0, i * m, (i + 1) * m);
    }
    mean += (h[i * n + i] as number) / n;
  }
  for (let i = 0; i < n; i++) h[i * n + i] = (h[i * n + i] as number) + percdamp * mean;
  const eliminate = (hinv: Float64Array, j: number): void => {
    const d = hinv[j * n + j] as number;
    const col = Array.from({ length: n }, (_, r) => hinv[r * n + j] as number);
    const row = Array.from({ length: n }, (_, c) => hinv[j * n + c] as number);
    for (let r = 0; r < n; r++)
      for (let c = 0; c < n; c++)
        hinv[r * n + c] =
          (hinv[r * n + c] as number) - ((col[r] as number) * (row[c] as number)) / d;
  };
  const dseq = new Float64Array(n);
  const tmp = invert(h, n);
  for (let j = 0; j < n; j++) {
    dseq[j] = tmp[j * n + j] as number;
    eliminate(tmp, j);
  }
  const hinv = invert(h, n);
  const mask = new Uint8Array(n * m);
  const keepBest = (idx: number[], k: number, score: (j: number) => number): void => {
    const order = [...idx].sort((a, b) => score(b) - score(a) || a - b);
    for (const j of order.slice(0, k)) mask[j] = 1;
  };
  for (let j = 0; j < n; j++) {
    if (pattern === undefined && j % blocksize === 0) {
      const end = Math.min(j + blocksize, n);
      const idx = Array.from({ length: (end - j) * m }, (_, t) => j * m + t);
      keepBest(
        idx,
        keepCount(density, end * m) - keepCount(density, j * m),
        (k) => (w[k] as number) ** 2 / (dseq[Math.floor(k / m)] as number),
      );
    }
    if (pattern !== undefined && j % pattern.of === 0) {
      for (let o = 0; o < m; o++) {
        const idx = Array.from({ length: pattern.of }, (_, t) => (j + t) * m + o);
        keepBest(
          idx,
          pattern.keep,
          (k) => (w[k] as number) ** 2 / (dseq[Math.floor(k / m)] as number),
        );
      }
    }
    const d = hinv[j * n + j] as number;
    for (let o = 0; o < m; o++) {
      const v = w[j * m + o] as number;
      const q = mask[j * m + o] === 1 ? v : 0;
      const e = (v - q) / d;
      for (let k = j + 1; k < n; k++)
        w[k * m + o] = (w[k * m + o] as number) - e * (hinv[j * n + k] as number);
      w[j * m + o] = q;
    }
    eliminate(hinv, j);
  }
  return { mask, weights: w };
}

/** Rows of the calibration samples through the fixture model: inputs of hidden1 and hidden2. */
async function calibrationInputs(f: PruneFixture): Promise<Map<string, Matrix>> {
  const ids = new Set(f.calibrationData.sampleIds);
  const split = f.calibrationData.split === 'train' ? f.train : f.test;
  const rows: number[] = [];
  for (let s = 0; s < split.count; s++) if (ids.has(split.ids[s] as number)) rows.push(s);
  const x0: Matrix = { rows: rows.length, cols: 784, data: new Float64Array(rows.length * 784) };
  rows.forEach((s, r) => x0.data.set(split.x.subarray(s * 784, (s + 1) * 784), r * 784));
  const model = await readModelArtifact(f.model, builtinFamilyLookup);
  const [k1, b1] = layersModelOf(model)
    .getLayer('hidden1')
    .getWeights()
    .map((t) => t.dataSync() as Float32Array);
  model.dispose();
  assert.ok(k1 && b1);
  const x1: Matrix = { rows: x0.rows, cols: 64, data: new Float64Array(x0.rows * 64) };
  for (let r = 0; r < x0.rows; r++) {
    for (let o = 0; o < 64; o++) {
      let z = b1[o] as number;
      for (let i = 0; i < 784; i++)
        z += (x0.data[r * 784 + i] as number) * (k1[i * 64 + o] as number);
      x1.data[r * 64 + o] = Math.max(0, z);
    }
  }
  return new Map([
    ['hidden1', x0],
    ['hidden2', x1],
  ]);
}

/** ‖XW − XŴ‖² in float64. */
function reconstructionError(
  x: Matrix,
  w: ArrayLike<number>,
  wHat: ArrayLike<number>,
  units: number,
): number {
  let sum = 0;
  for (let r = 0; r < x.rows; r++) {
    for (let o = 0; o < units; o++) {
      let d = 0;
      for (let i = 0; i < x.cols; i++)
        d +=
          (x.data[r * x.cols + i] as number) *
          ((w[i * units + o] as number) - (wHat[i * units + o] as number));
      sum += d * d;
    }
  }
  return sum;
}

function masked(w: Float32Array, mask: Uint8Array | undefined): Float32Array {
  assert.ok(mask);
  return w.map((v, j) => (mask[j] === 1 ? v : 0));
}

function randomMatrix(rng: Rng, rows: number, cols: number): Matrix {
  const data = new Float64Array(rows * cols);
  for (let k = 0; k < data.length; k++) data[k] = rng.normal();
  return { rows, cols, data };
}

describe('sparsegpt', function () {
  this.timeout(120000);
  let f: PruneFixture;
  let inputs: Map<string, Matrix>;
  before(async () => {
    f = await pruneFixture();
    inputs = await calibrationInputs(f);
  });

  it('the calibration Gram matrix is XᵀX of the real calibration inputs', () => {
    for (const name of ['hidden1', 'hidden2']) {
      const x = inputs.get(name) as Matrix;
      const mine = gramOf(x);
      const theirs = f.calibrationData.layers.get(name)?.gram;
      assert.ok(theirs);
      for (let k = 0; k < mine.length; k += 97)
        assert.ok(
          Math.abs((theirs[k] as number) - (mine[k] as number)) <=
            1e-3 * (1 + Math.abs(mine[k] as number)),
          `${name} ${k}`,
        );
    }
  });

  it('upperCholeskyOfInverse: U upper, positive diagonal, UᵀU·H = I', () => {
    const n = 64;
    const h = gramOf(inputs.get('hidden2') as Matrix);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += (h[i * n + i] as number) / n;
    for (let i = 0; i < n; i++)
      h[i * n + i] = (h[i * n + i] as number) + 0.01 * mean + (h[i * n + i] === 0 ? 1 : 0);
    const u = upperCholeskyOfInverse(h, n);
    assert.ok(u);
    for (let i = 0; i < n; i++) {
      assert.ok((u[i * n + i] as number) > 0);
      for (let j = 0; j < i; j++) assert.equal(u[i * n + j], 0);
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let v = 0; // (UᵀU H)_ij
        for (let k = 0; k < n; k++) {
          let utu = 0;
          for (let t = 0; t < n; t++) utu += (u[t * n + i] as number) * (u[t * n + k] as number);
          v += utu * (h[k * n + j] as number);
        }
        assert.ok(Math.abs(v - (i === j ? 1 : 0)) < 1e-8, `(${i},${j}) = ${v}`);
      }
    }
  });

  for (const pattern of [undefined, { keep: 2, of: 4 }]) {
    it(`equals a plain sequential OBS with an explicit inverse Hessian (${pattern ? '2:4' : 'density 0.4, blocks of 16'})`, async () => {
      const [layer] = await layersOf(f.model, ['hidden2'], pattern ? 0.5 : 0.4);
      assert.ok(layer);
      const cal = f.calibrationData.layers.get('hidden2');
      assert.ok(cal?.gram);
      const { fanIn: n, units: m } = layer.info;
      const args = { density: layer.density, percdamp: 0.01, blocksize: 16 };
      const got = sparsegptLayer({
        name: 'hidden2',
        weights: layer.weights,
        fanIn: n,
        units: m,
        gram: cal.gram,
        rows: cal.rows,
        ...args,
        ...(pattern ? { pattern } : {}),
      });
      const ref = referenceObs(
        layer.weights,
        n,
        m,
        cal.gram,
        cal.rows,
        args.density,
        args.percdamp,
        args.blocksize,
        pattern,
      );
      assert.deepEqual(got.mask, ref.mask);
      let scale = 0;
      for (const v of ref.weights) scale = Math.max(scale, Math.abs(v));
      for (let k = 0; k < n * m; k++)
        assert.ok(
          Math.abs((got.weights[k] as number) - (ref.weights[k] as number)) <= 1e-4 * scale,
          `weight ${k}`,
        );
      assert.notDeepEqual(
        Array.from(got.weights),
        Array.from(masked(layer.weights, got.mask)),
        'weights were reconstructed, not only masked',
      );
    });
  }

  for (const setting of [{ density: 0.3 }, { density: 0.1 }, { pattern: { keep: 2, of: 4 } }]) {
    it(`reconstruction error ‖XW − XŴ‖² on the calibration inputs: sparsegpt < wanda, magnitude (${setting.pattern ? '2:4' : `density ${setting.density}`})`, async () => {
      const density = setting.pattern ? 0.5 : (setting.density as number);
      const layers = await layersOf(f.model, ['hidden1', 'hidden2'], density);
      const extra = setting.pattern ? { pattern: setting.pattern } : {};
      const sgpt = await callPruner(
        sparsegptPruner,
        f.model,
        layers,
        { percdamp: 0.01, blocksize: 128, ...extra },
        f.calibrationData,
      );
      const wanda = await callPruner(
        wandaPruner,
        f.model,
        layers,
        { granularity: 'per-output', ...extra },
        f.calibrationData,
      );
      const mag = await callPruner(magnitudePruner, f.model, layers, {
        granularity: 'layer',
        ...extra,
      });
      for (const l of layers) {
        const x = inputs.get(l.info.name) as Matrix;
        const eS = reconstructionError(
          x,
          l.weights,
          sgpt.weights?.get(l.info.name) ?? [],
          l.info.units,
        );
        const eW = reconstructionError(
          x,
          l.weights,
          masked(l.weights, wanda.masks.get(l.info.name)),
          l.info.units,
        );
        const eM = reconstructionError(
          x,
          l.weights,
          masked(l.weights, mag.masks.get(l.info.name)),
          l.info.units,
        );
        assert.ok(
          eS < eW && eS < eM,
          `${l.info.name}: sparsegpt ${eS}, wanda ${eW}, magnitude ${eM}`,
        );
      }
    });
  }

  it('density 1 returns W unchanged', () => {
    const rng = new Rng(4);
    const x = randomMatrix(rng, 50, 12);
    const w = Float32Array.from({ length: 12 * 5 }, () => rng.normal());
    const r = sparsegptLayer({
      name: 't',
      weights: w,
      fanIn: 12,
      units: 5,
      gram: gramOf(x),
      rows: 50,
      density: 1,
      percdamp: 0.01,
      blocksize: 4,
    });
    assert.deepEqual(r.mask, new Uint8Array(60).fill(1));
    assert.deepEqual(r.weights, w);
  });

  it('dead inputs (always 0 in calibration) get their weights zeroed and pruned first', () => {
    const rng = new Rng(5);
    const x = randomMatrix(rng, 40, 8);
    for (let r = 0; r < 40; r++) x.data[r * 8 + 3] = 0;
    const w = Float32Array.from({ length: 8 * 4 }, () => rng.normal());
    const r = sparsegptLayer({
      name: 't',
      weights: w,
      fanIn: 8,
      units: 4,
      gram: gramOf(x),
      rows: 40,
      density: 0.75,
      percdamp: 0.01,
      blocksize: 8,
    });
    assert.equal(r.deadInputs, 1);
    for (let o = 0; o < 4; o++) {
      assert.equal(r.mask[3 * 4 + o], 0);
      assert.equal(r.weights[3 * 4 + o], 0);
    }
    assert.equal(
      r.mask.reduce((a, b) => a + b, 0),
      24,
    );
  });

  it('raises dampening (and says so) when the Cholesky factorisation fails', () => {
    quietLog.warnings.length = 0;
    const gram = Float64Array.from([1, 3, 3, 1]); // indefinite (eigenvalues 4, −2): fails until damping exceeds 2
    const r = sparsegptLayer({
      name: 'bad',
      weights: Float32Array.from([1, 2, 3, 4]),
      fanIn: 2,
      units: 2,
      gram,
      rows: 2,
      density: 0.5,
      percdamp: 0,
      blocksize: 2,
      log: quietLog,
    });
    assert.equal(r.percdamp, 10);
    assert.equal(quietLog.warnings.length, 6);
    assert.match(
      quietLog.warnings[0] ?? '',
      /Cholesky factorisation failed for layer 'bad' with percdamp 0; retrying with 0.0001/,
    );
  });

  // consumeGram factors U in the Gram matrix's own buffer (what the pruner does with its own
  // calibration arrays): the same bits as the read-only path, for a normal factorisation and for
  // one that needs retries (each retry restarts from the copy kept in the strict upper triangle).
  for (const [what, gramOf2, percdamp] of [
    ['a random positive-definite layer', () => gramOf(randomMatrix(new Rng(31), 40, 12)), 0.01],
    ['an indefinite matrix that needs retries', () => Float64Array.from([1, 3, 3, 1]), 0],
  ] as const) {
    it(`consumeGram and into: the same mask and weights as the read-only path (${what})`, () => {
      const gram = gramOf2();
      const n = Math.round(Math.sqrt(gram.length));
      const m = 5;
      const rng = new Rng(32);
      const weights = Float32Array.from({ length: n * m }, () => rng.normal());
      const args = {
        name: 'l',
        weights,
        fanIn: n,
        units: m,
        rows: 40,
        density: 0.5,
        percdamp,
        blocksize: 4,
        log: quietLog,
      };
      const readOnly = sparsegptLayer({ ...args, gram: Float64Array.from(gram) });
      const scratch = Float64Array.from(gram);
      const consumed = sparsegptLayer({ ...args, gram: scratch, consumeGram: true });
      assert.deepEqual(consumed.mask, readOnly.mask);
      assert.deepEqual(consumed.weights, readOnly.weights);
      assert.equal(consumed.percdamp, readOnly.percdamp);
      assert.equal(consumed.errorEstimate, readOnly.errorEstimate);
      assert.notDeepEqual(scratch, gram);
      // `into` its own input array: read before it is written, so the same result again.
      const own = Float32Array.from(weights);
      const intoOwn = sparsegptLayer({
        ...args,
        weights: own,
        gram: Float64Array.from(gram),
        into: own,
      });
      assert.equal(intoOwn.weights, own);
      assert.deepEqual(intoOwn.weights, readOnly.weights);
    });
  }

  // CPU time of this process, not wall time: the test machine is shared, and wall time measures
  // the neighbours as much as SparseGPT.
  it('784×512 and 512×512 layers take under 2 s (CPU) each', () => {
    const rng = new Rng(6);
    const split = f.train;
    const x784: Matrix = {
      rows: 256,
      cols: 784,
      data: Float64Array.from(split.x.subarray(0, 256 * 784)),
    };
    const x512 = randomMatrix(rng, 600, 512);
    for (const [x, units] of [
      [x784, 512],
      [x512, 512],
    ] as const) {
      const gram = gramOf(x);
      const w = Float32Array.from({ length: x.cols * units }, () => rng.normal() * 0.05);
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const r = sparsegptLayer({
        name: 'big',
        weights: w,
        fanIn: x.cols,
        units,
        gram,
        rows: x.rows,
        density: 0.3,
        percdamp: 0.01,
        blocksize: 128,
      });
      const used = process.cpuUsage(cpu0);
      const ms = (used.user + used.system) / 1000;
      console.log(
        `      sparsegpt ${x.cols}×${units}: ${ms.toFixed(0)} ms CPU, ${(performance.now() - t0).toFixed(0)} ms wall`,
      );
      assert.equal(
        r.mask.reduce((a, b) => a + b, 0),
        keepCount(0.3, x.cols * units),
      );
      assert.ok(ms < 2000, `${x.cols}×${units} took ${ms} ms`);
    }
  });
});
