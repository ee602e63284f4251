import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isScalpelError } from '../../src/errors.js';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { readDatasetArtifact } from '../../src/data/dataset-artifact.js';
import type { DatasetSplit } from '../../src/data/types.js';
import { readCalibrationArtifact } from '../../src/pruning/calibration-artifact.js';
import { calibrateStage } from '../../src/stages/calibrate.js';
import type { Artifact } from '../../src/plugin-api/stage.js';
import { runStage } from '../helpers/stage-context.js';
import { fashionSubset, makeModel, modelArtifact } from './fixtures.js';

/** Rows of `split` for the given sample ids, as float64 matrices (ids → positions by lookup). */
function rowsOf(split: DatasetSplit, ids: readonly number[]): Float64Array[] {
  const pos = new Map<number, number>();
  split.ids.forEach((id, i) => pos.set(id, i));
  return ids.map((id) => {
    const i = pos.get(id);
    assert.ok(i !== undefined, `sample id ${id} is not in the split`);
    return Float64Array.from(split.x.subarray(i * 784, (i + 1) * 784));
  });
}

function weights(
  model: tfl.LayersModel,
  layer: string,
): { w: Float32Array; b: Float32Array; fout: number } {
  const l = model.getLayer(layer);
  const [k, b] = l.getWeights();
  return {
    w: k?.dataSync() as Float32Array,
    b: b?.dataSync() as Float32Array,
    fout: k?.shape[k.shape.length - 1] as number,
  };
}

function normsAndGram(
  X: Float64Array[],
  fanIn: number,
): { norms: Float64Array; gram: Float64Array } {
  const norms = new Float64Array(fanIn);
  const gram = new Float64Array(fanIn * fanIn);
  for (const x of X) {
    for (let i = 0; i < fanIn; i++) {
      const xi = x[i] as number;
      norms[i] = (norms[i] as number) + xi * xi;
      if (xi === 0) continue;
      for (let j = 0; j < fanIn; j++)
        gram[i * fanIn + j] = (gram[i * fanIn + j] as number) + xi * (x[j] as number);
    }
  }
  return { norms: norms.map(Math.sqrt), gram };
}

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rel: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++)
    scale = Math.max(scale, Math.abs(expected[i] as number));
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs((actual[i] as number) - (expected[i] as number));
    assert.ok(d <= rel * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (scale ${scale})`);
  }
}

describe('calibrate stage', function () {
  this.timeout(60_000);
  let data: Artifact;
  let train: DatasetSplit;
  before(async () => {
    data = await fashionSubset();
    const t = (await readDatasetArtifact(data)).splits.get('train');
    assert.ok(t);
    train = t;
  });

  it('Dense: norms and XᵀX equal float64 from the recorded samples; mean gradient equals an independent tf.grad', async () => {
    const model = makeModel({
      input: [784],
      layers: [
        { type: 'dense', units: 16, activation: 'relu', name: 'linear1' },
        { type: 'dense', units: 10, name: 'linear2' },
      ],
    });
    const input = await modelArtifact(model);
    const samples = 40;
    const before = tf.memory().numTensors;
    // batchSize 16 splits the 40 samples unevenly: the statistics must not depend on it.
    const r = await runStage(
      calibrateStage,
      { samples, batchSize: 16 },
      { inputs: [input, data], seed: 3 },
    );
    assert.equal(tf.memory().numTensors, before, 'calibrate leaked tensors');
    const cal = await readCalibrationArtifact(r.artifact);
    assert.equal(cal.samples, samples);
    assert.equal(cal.split, 'train');
    assert.equal(new Set(cal.sampleIds).size, samples);

    const X1 = rowsOf(train, cal.sampleIds);
    const l1 = weights(model, 'linear1');
    const X2 = X1.map((x) => {
      const h = new Float64Array(16);
      for (let o = 0; o < 16; o++) {
        let a = l1.b[o] as number;
        for (let i = 0; i < 784; i++) a += (x[i] as number) * (l1.w[i * 16 + o] as number);
        h[o] = Math.max(0, a);
      }
      return h;
    });
    for (const [name, X, fanIn] of [
      ['linear1', X1, 784],
      ['linear2', X2, 16],
    ] as const) {
      const c = cal.layers.get(name);
      assert.ok(c?.inputNorms && c.gram && c.meanGradient, `${name} statistics missing`);
      assert.equal(c.rows, samples);
      const expected = normsAndGram(X, fanIn);
      assertClose(c.inputNorms, expected.norms, 1e-5, `${name} norms`);
      assertClose(c.gram, expected.gram, 1e-5, `${name} gram`);
    }

    // Independent gradient: the same network written with plain tf ops and tf.losses.
    const l2 = weights(model, 'linear2');
    const labels = cal.sampleIds.map((id) => train.y[train.ids.indexOf(id)] as number);
    const [g1, g2] = tf.tidy(() => {
      const x = tf.tensor2d(X1.map((r) => Array.from(r)));
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
      const b1 = tf.tensor1d(l1.b);
      const b2 = tf.tensor1d(l2.b);
      const loss = (w1: tf.Tensor, w2: tf.Tensor): tf.Scalar =>
        tf.losses.softmaxCrossEntropy(
          y,
          tf.add(
            tf.matMul(tf.relu(tf.add(tf.matMul(x, w1 as tf.Tensor2D), b1)), w2 as tf.Tensor2D),
            b2,
          ),
        ) as tf.Scalar;
      const grads = tf.grads((w1: tf.Tensor, w2: tf.Tensor) => loss(w1, w2));
      return grads([tf.tensor2d(l1.w, [784, 16]), tf.tensor2d(l2.w, [16, 10])]);
    });
    assertClose(
      cal.layers.get('linear1')?.meanGradient ?? [],
      g1?.dataSync() ?? [],
      1e-4,
      'linear1 grad',
    );
    assertClose(
      cal.layers.get('linear2')?.meanGradient ?? [],
      g2?.dataSync() ?? [],
      1e-4,
      'linear2 grad',
    );
    tf.dispose([g1 ?? [], g2 ?? []]);

    // Same seed, same samples; other seed, other samples; gram off above gramMaxFanIn.
    const again = await runStage(
      calibrateStage,
      { samples, gramMaxFanIn: 100, meanGradient: false },
      { inputs: [input, data], seed: 3 },
    );
    const cal2 = await readCalibrationArtifact(again.artifact);
    assert.deepEqual(cal2.sampleIds, cal.sampleIds);
    assert.equal(cal2.layers.get('linear1')?.gram, undefined);
    assert.ok(cal2.layers.get('linear2')?.gram);
    assert.equal(cal2.layers.get('linear1')?.meanGradient, undefined);
    // A truncated statistics file is a clear data error, not garbage numbers.
    const file = join(again.ctx.outDir, 'layer1.norms.f32');
    await fs.truncate(file, 8);
    await assert.rejects(
      readCalibrationArtifact(again.artifact),
      (e: unknown) =>
        isScalpelError(e) &&
        e.code === 'E_DATA' &&
        /layer1\.norms\.f32/.test(e.message) &&
        e.hint !== undefined,
    );
    const other = await readCalibrationArtifact(
      (await runStage(calibrateStage, { samples }, { inputs: [input, data], seed: 4 })).artifact,
    );
    assert.notDeepEqual(other.sampleIds, cal.sampleIds);
    model.dispose();
  });

  it('Conv2D: statistics of the im2col patches (same padding, stride 2) equal a brute-force float64 im2col', async () => {
    const model = makeModel({
      input: [784],
      layers: [
        { type: 'reshape', targetShape: [28, 28, 1] },
        {
          type: 'conv2d',
          filters: 4,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
          name: 'conv',
        },
        { type: 'flatten' },
        { type: 'dense', units: 10, name: 'head' },
      ],
    });
    const input = await modelArtifact(model);
    const r = await runStage(calibrateStage, { samples: 6 }, { inputs: [input, data], seed: 1 });
    const cal = await readCalibrationArtifact(r.artifact);
    // TF 'same': out = ceil(28/2) = 14, total padding (14−1)·2 + 3 − 28 = 1 → 0 before, 1 after.
    const patches: Float64Array[] = [];
    for (const img of rowsOf(train, cal.sampleIds)) {
      for (let oy = 0; oy < 14; oy++) {
        for (let ox = 0; ox < 14; ox++) {
          const p = new Float64Array(9);
          for (let i = 0; i < 3; i++) {
            for (let j = 0; j < 3; j++) {
              const y = oy * 2 + i;
              const x = ox * 2 + j;
              p[i * 3 + j] = y < 28 && x < 28 ? (img[y * 28 + x] as number) : 0;
            }
          }
          patches.push(p);
        }
      }
    }
    const c = cal.layers.get('conv');
    assert.ok(c?.inputNorms && c.gram && c.meanGradient);
    assert.equal(c.rows, 6 * 14 * 14);
    assert.equal(c.meanGradient.length, 3 * 3 * 1 * 4);
    const expected = normsAndGram(patches, 9);
    assertClose(c.inputNorms, expected.norms, 1e-5, 'conv norms');
    assertClose(c.gram, expected.gram, 1e-5, 'conv gram');
    assert.equal(cal.layers.get('head')?.rows, 6);

    // Mean gradient w.r.t. the conv kernel by hand-written float64 backprop through
    // conv(im2col) → relu → flatten → dense → softmax cross-entropy.
    const conv = weights(model, 'conv');
    const head = weights(model, 'head');
    const labels = cal.sampleIds.map((id) => train.y[train.ids.indexOf(id)] as number);
    const grad = new Float64Array(9 * 4);
    const P = 14 * 14;
    labels.forEach((label, s) => {
      const z = new Float64Array(P * 4);
      for (let q = 0; q < P; q++) {
        for (let o = 0; o < 4; o++) {
          let a = conv.b[o] as number;
          for (let k = 0; k < 9; k++)
            a += (patches[s * P + q]![k] as number) * (conv.w[k * 4 + o] as number);
          z[q * 4 + o] = a;
        }
      }
      const act = z.map((v) => Math.max(0, v));
      const logits = new Float64Array(10);
      for (let c = 0; c < 10; c++) {
        let a = head.b[c] as number;
        for (let i = 0; i < P * 4; i++) a += (act[i] as number) * (head.w[i * 10 + c] as number);
        logits[c] = a;
      }
      const max = Math.max(...logits);
      const e = logits.map((v) => Math.exp(v - max));
      const sum = e.reduce((a, v) => a + v, 0);
      const dlogits = e.map((v, c) => (v / sum - (c === label ? 1 : 0)) / labels.length);
      for (let q = 0; q < P; q++) {
        for (let o = 0; o < 4; o++) {
          if ((z[q * 4 + o] as number) <= 0) continue;
          let da = 0;
          for (let c = 0; c < 10; c++)
            da += (head.w[(q * 4 + o) * 10 + c] as number) * (dlogits[c] as number);
          for (let k = 0; k < 9; k++)
            grad[k * 4 + o] = (grad[k * 4 + o] as number) + (patches[s * P + q]![k] as number) * da;
        }
      }
    });
    assertClose(c.meanGradient, grad, 1e-4, 'conv grad');
    model.dispose();
  });
});
