import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { readKernel, writeKernel } from '../helpers/models.js';
import { readDatasetArtifact } from '../../src/data/dataset-artifact.js';
import { evaluateStage } from '../../src/stages/evaluate.js';
import type { Artifact } from '../../src/plugin-api/stage.js';
import { runStage } from '../helpers/stage-context.js';
import { fashionSubset, makeModel, modelArtifact } from './fixtures.js';

/** Logits of a Dense-ReLU-…-Dense model by plain float64 matrix math from its weights. */
function logitsFloat64(model: tfl.LayersModel, x: Float32Array, n: number): Float64Array[] {
  const layers = model.layers.map((l) => {
    const [kernel, bias] = l.getWeights();
    return {
      w: kernel?.dataSync() as Float32Array,
      b: bias?.dataSync() as Float32Array,
      shape: kernel?.shape as number[],
      relu: (l.getConfig() as { activation: string }).activation === 'relu',
    };
  });
  const out: Float64Array[] = [];
  for (let s = 0; s < n; s++) {
    let h = Float64Array.from(x.subarray(s * 784, (s + 1) * 784));
    for (const { w, b, shape, relu } of layers) {
      const [fin, fout] = shape as [number, number];
      const z = new Float64Array(fout);
      for (let o = 0; o < fout; o++) {
        let acc = b[o] as number;
        for (let i = 0; i < fin; i++) acc += (h[i] as number) * (w[i * fout + o] as number);
        z[o] = relu ? Math.max(0, acc) : acc;
      }
      h = z;
    }
    out.push(h);
  }
  return out;
}

describe('evaluate stage', function () {
  this.timeout(60_000);
  let data: Artifact;
  before(async () => {
    data = await fashionSubset();
  });

  it('accuracy, top-k and loss equal an independent float64 computation; sparsity and sizes are exact', async () => {
    const model = makeModel();
    // Prune every 4th weight of linear1 and the first 100 of linear2 (exact zeros).
    const w1 = readKernel(model, 'linear1');
    for (let i = 0; i < w1.length; i += 4) w1[i] = 0;
    writeKernel(model, 'linear1', w1);
    const w2 = readKernel(model, 'linear2');
    w2.fill(0, 0, 100);
    writeKernel(model, 'linear2', w2);
    const input = await modelArtifact(model);

    const n = 120;
    const test = (await readDatasetArtifact(data)).splits.get('test');
    assert.ok(test);
    const logits = logitsFloat64(model, test.x, n);
    let hits = 0;
    let hits3 = 0;
    let lossSum = 0;
    logits.forEach((z, s) => {
      const label = test.y[s] as number;
      const order = [...z.keys()].sort((a, b) => (z[b] as number) - (z[a] as number));
      if (order[0] === label) hits++;
      if (order.slice(0, 3).includes(label)) hits3++;
      const max = Math.max(...z);
      const lse = max + Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0));
      lossSum += lse - (z[label] as number);
    });
    model.dispose();

    const before = tf.memory().numTensors;
    const r = await runStage(
      evaluateStage,
      { samples: n, topK: 3, batchSize: 50, latencyRuns: 3 },
      { inputs: [input, data] },
    );
    assert.equal(tf.memory().numTensors, before, 'evaluate leaked tensors');
    const m = r.result.metrics as {
      samples: number;
      accuracy: number;
      top3Accuracy: number;
      loss: number;
      sparsity: { total: number; layers: { name: string; zeros: number; params: number }[] };
      params: { total: number; nonZero: number };
      size: { bytes: number; gzipBytes: number };
      latency: { medianMs: number; batch: number };
    };
    assert.equal(m.samples, n);
    assert.equal(m.accuracy, hits / n);
    assert.equal(m.top3Accuracy, hits3 / n);
    assert.ok(
      Math.abs(m.loss - lossSum / n) < 1e-5 * (lossSum / n),
      `loss ${m.loss} vs float64 ${lossSum / n}`,
    );

    const zeros1 = Math.ceil((784 * 32) / 4);
    assert.deepEqual(
      m.sparsity.layers.map((l) => [l.name, l.zeros, l.params]),
      [
        ['linear1', zeros1, 784 * 32],
        ['linear2', 100, 320],
      ],
    );
    assert.equal(m.sparsity.total, (zeros1 + 100) / (784 * 32 + 320));
    assert.equal(m.params.total, 784 * 32 + 32 + 320 + 10);
    assert.equal(m.params.nonZero, 784 * 32 - zeros1 + 320 - 100); // biases are initialised to exactly 0
    const files = ['model.json', 'weights.bin'].map((f) => join(input.dir, f));
    const bytes = await Promise.all(files.map((f) => fs.readFile(f)));
    assert.equal(m.size.bytes, bytes[0]!.length + bytes[1]!.length);
    assert.equal(
      m.size.gzipBytes,
      gzipSync(bytes[0]!, { level: 9 }).length + gzipSync(bytes[1]!, { level: 9 }).length,
    );
    assert.ok(m.latency.medianMs > 0 && m.latency.batch === n);
    const written = JSON.parse(await fs.readFile(join(r.ctx.outDir, 'metrics.json'), 'utf8')) as {
      accuracy: number;
    };
    assert.equal(written.accuracy, m.accuracy);
    assert.ok(r.ctx.logged.some((l) => l.level === 'info' && /accuracy .*%/.test(l.message)));
  });
});
