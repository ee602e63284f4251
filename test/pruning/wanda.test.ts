// Wanda on the real fixture layers: the mask equals a brute-force per-output sort of
// |W[i,o]|·‖X_i‖₂ with ‖X_i‖₂ recomputed here from the calibration samples themselves; with all
// input norms equal it is per-output magnitude; N:M masks hold the pattern in every group.
import assert from 'node:assert/strict';
import { keepCount } from '../../src/pruning/select-mask.js';
import { wandaPruner } from '../../plugins/baselines/wanda.js';
import { magnitudePruner } from '../../plugins/baselines/magnitude.js';
import type { CalibrationData } from '../../src/plugin-api/calibration.js';
import { pruneFixture, type PruneFixture } from '../conformance/fixture.js';
import { callPruner, layersOf } from './direct-call.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

/** ‖X_i‖₂ of the first layer's inputs (the calibration images), in float64, from the samples. */
function imageNorms(f: PruneFixture): Float64Array {
  const ids = new Set(f.calibrationData.sampleIds);
  const split = f.calibrationData.split === 'train' ? f.train : f.test;
  const sq = new Float64Array(784);
  let used = 0;
  for (let s = 0; s < split.count; s++) {
    if (!ids.has(split.ids[s] as number)) continue;
    used++;
    for (let i = 0; i < 784; i++) {
      const v = split.x[s * 784 + i] as number;
      sq[i] = (sq[i] as number) + v * v;
    }
  }
  assert.equal(used, f.calibrationData.samples, 'every calibration sample found by id');
  return sq.map(Math.sqrt);
}

/** Brute force: per output unit, inputs sorted by (score desc, index asc); keep the first k. */
function bruteWanda(
  w: Float32Array,
  norms: ArrayLike<number>,
  fanIn: number,
  units: number,
  density: number,
): Uint8Array {
  const mask = new Uint8Array(w.length);
  const k = keepCount(density, fanIn);
  for (let o = 0; o < units; o++) {
    const score = (i: number): number =>
      Math.fround(Math.abs(w[i * units + o] as number) * Math.fround(norms[i] as number));
    const order = Array.from({ length: fanIn }, (_, i) => i).sort(
      (a, b) => score(b) - score(a) || a - b,
    );
    for (const i of order.slice(0, k)) mask[i * units + o] = 1;
  }
  return mask;
}

describe('wanda (real layers)', function () {
  this.timeout(120000);
  let f: PruneFixture;
  before(async () => {
    f = await pruneFixture();
  });

  it('calibration norms of the first layer are the norms of the calibration images', () => {
    const mine = imageNorms(f);
    const theirs = f.calibrationData.layers.get('hidden1')?.inputNorms;
    assert.ok(theirs);
    // |Δ| ≤ 1e-4·(1 + norm): norms are ≥ 0, so atol 1e-4 plus rtol 1e-4.
    expectArraysClose(theirs, mine, { atol: 1e-4, rtol: 1e-4 }, 'input norms');
  });

  for (const density of [0.1, 0.3, 0.55]) {
    it(`mask equals a brute-force per-output sort (density ${density})`, async () => {
      const layers = await layersOf(f.model, ['hidden1', 'hidden2'], density);
      const r = await callPruner(
        wandaPruner,
        f.model,
        layers,
        { granularity: 'per-output' },
        f.calibrationData,
      );
      for (const l of layers) {
        const norms = f.calibrationData.layers.get(l.info.name)?.inputNorms;
        assert.ok(norms);
        const expected = bruteWanda(l.weights, norms, l.info.fanIn, l.info.units, density);
        assert.deepEqual(r.masks.get(l.info.name), expected, l.info.name);
        // And it differs from plain magnitude: the norms matter on real images.
      }
      const mag = await callPruner(magnitudePruner, f.model, layers, { granularity: 'per-output' });
      assert.notDeepEqual(mag.masks.get('hidden1'), r.masks.get('hidden1'));
    });
  }

  it('with all input norms equal, wanda equals per-output magnitude', async () => {
    const layers = await layersOf(f.model, ['hidden1', 'hidden2', 'output'], 0.3);
    const flat: CalibrationData = {
      ...f.calibrationData,
      layers: new Map(
        layers.map((l) => [
          l.info.name,
          { rows: 128, inputNorms: new Float32Array(l.info.fanIn).fill(3.7) },
        ]),
      ),
    };
    const wanda = await callPruner(
      wandaPruner,
      f.model,
      layers,
      { granularity: 'per-output' },
      flat,
    );
    const mag = await callPruner(magnitudePruner, f.model, layers, { granularity: 'per-output' });
    for (const l of layers)
      assert.deepEqual(wanda.masks.get(l.info.name), mag.masks.get(l.info.name), l.info.name);
  });

  for (const [keep, of] of [
    [2, 4],
    [4, 8],
  ] as const) {
    it(`N:M ${keep}:${of} keeps exactly ${keep} in every group, the best by wanda score`, async () => {
      const layers = await layersOf(f.model, ['hidden1', 'hidden2', 'output'], keep / of);
      const r = await callPruner(
        wandaPruner,
        f.model,
        layers,
        { granularity: 'per-output', pattern: { keep, of } },
        f.calibrationData,
      );
      for (const l of layers) {
        const mask = r.masks.get(l.info.name);
        const norms = f.calibrationData.layers.get(l.info.name)?.inputNorms;
        assert.ok(mask && norms);
        const { fanIn, units } = l.info;
        for (let o = 0; o < units; o++) {
          for (let g = 0; g < fanIn; g += of) {
            const group = Array.from({ length: of }, (_, t) => g + t);
            const kept: number[] = group.filter((i) => mask[i * units + o] === 1);
            assert.equal(kept.length, keep, `${l.info.name} unit ${o} group ${g}`);
            const score = (i: number): number =>
              Math.abs(l.weights[i * units + o] as number) * (norms[i] as number);
            const minKept = Math.min(...kept.map(score));
            const maxPruned = Math.max(
              ...group.filter((i) => mask[i * units + o] === 0).map(score),
            );
            assert.ok(
              minKept >= maxPruned * (1 - 1e-6),
              `${l.info.name} unit ${o} group ${g}: kept ${minKept} < pruned ${maxPruned}`,
            );
          }
        }
      }
    });
  }
});
