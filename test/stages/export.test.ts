import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readMasks } from '../../src/models/mask-files.js';
import { applyMasks, readKernel, writeKernel } from '../helpers/models.js';
import { loadSparseModel } from '../../src/models/tfjs-layers/sparse-format.js';
import { exportStage } from '../../src/stages/export.js';
import type { SparsityManifest } from '../../src/models/sparsity-manifest.js';
import { Rng } from '../../src/util/rng.js';
import { isScalpelError } from '../../src/errors.js';
import { artifactFrom, runStage } from '../helpers/stage-context.js';
import { tempDir } from '../helpers/paths.js';
import { initBackend } from '../../src/models/backend.js';
import { makeModel, modelArtifact, plainLoad } from './fixtures.js';

function weightBits(model: tfl.LayersModel): Uint32Array[] {
  return model.weights.map((w) => new Uint32Array(Float32Array.from(w.read().dataSync()).buffer));
}

/** Keep the 2 largest |w| of every group of 4 consecutive inputs of each output (2:4). */
function twoOfFour(w: Float32Array, fanIn: number, units: number): Uint8Array {
  const mask = new Uint8Array(w.length);
  for (let g = 0; g < fanIn; g += 4) {
    for (let o = 0; o < units; o++) {
      const idx = [0, 1, 2, 3]
        .map((k) => (g + k) * units + o)
        .sort((a, b) => Math.abs(w[b] as number) - Math.abs(w[a] as number));
      mask[idx[0] as number] = 1;
      mask[idx[1] as number] = 1;
    }
  }
  return mask;
}

describe('export stage', function () {
  this.timeout(60_000);
  before(async () => {
    await initBackend('wasm');
  });

  it('round-trips: plain tf.loadLayersModel gives identical predictions, the sparse format bit-identical weights', async () => {
    const model = makeModel();
    const rng = new Rng(3);
    const m1 = Uint8Array.from({ length: 784 * 32 }, () => (rng.float() < 0.2 ? 1 : 0));
    const m2 = twoOfFour(readKernel(model, 'linear2'), 32, 10);
    const masks = new Map([
      ['linear1', m1],
      ['linear2', m2],
    ]);
    applyMasks(model, masks);
    // A kept weight of exactly −0.0 must survive the sparse format bit for bit.
    const w1 = readKernel(model, 'linear1');
    const keptAt = m1.indexOf(1);
    w1[keptAt] = -0;
    writeKernel(model, 'linear1', w1);
    const input = await modelArtifact(model, masks);

    const recipeDir = tempDir('scalpel-recipe-');
    const target = join(recipeDir, 'out', 'exported');
    await fs.mkdir(target, { recursive: true });
    await fs.writeFile(join(target, 'README.md'), 'hand-written');
    await fs.writeFile(join(target, 'sparse.bin'), 'stale file from an earlier export');

    const before = tf.memory().numTensors;
    const r = await runStage(
      exportStage,
      { sparse: true, to: 'out/exported' },
      { inputs: [input], recipeDir },
    );
    assert.equal(tf.memory().numTensors, before, 'export leaked tensors');

    for (const dir of [r.ctx.outDir, target]) {
      const loaded = await plainLoad(dir);
      const x = tf.randomNormal([16, 784], 0, 1, 'float32', 9);
      const a = model.predict(x) as tf.Tensor;
      const b = loaded.predict(x) as tf.Tensor;
      assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
      tf.dispose([x, a, b]);
      loaded.dispose();

      const sparse = await loadSparseModel(dir);
      const orig = weightBits(model);
      const rebuilt = weightBits(sparse);
      assert.equal(rebuilt.length, orig.length);
      orig.forEach((bits, i) => assert.deepEqual(rebuilt[i], bits, `weight ${i} differs`));
      assert.ok(Object.is(readKernel(sparse, 'linear1')[keptAt], -0));
      sparse.dispose();

      const readBack = await readMasks(dir);
      assert.deepEqual(readBack.get('linear1'), m1);
      assert.deepEqual(readBack.get('linear2'), m2);
    }
    assert.equal(await fs.readFile(join(target, 'README.md'), 'utf8'), 'hand-written');
    // A corrupt sparse.bin is reported as such.
    const bin = await fs.readFile(join(target, 'sparse.bin'));
    await fs.writeFile(join(r.ctx.outDir, 'sparse.bin'), bin.subarray(0, 100));
    await assert.rejects(
      loadSparseModel(r.ctx.outDir),
      (e: unknown) => isScalpelError(e) && e.code === 'E_DATA' && /truncated/.test(e.message),
    );
    assert.notEqual(
      await fs.readFile(join(target, 'sparse.bin'), 'utf8'),
      'stale file from an earlier export',
    );

    const manifest = JSON.parse(
      await fs.readFile(join(target, 'sparsity.json'), 'utf8'),
    ) as SparsityManifest;
    const l1 = manifest.layers.find((l) => l.name === 'linear1');
    const l2 = manifest.layers.find((l) => l.name === 'linear2');
    const kept1 = m1.reduce((a, b) => a + b, 0);
    assert.equal(l1?.nonZero, kept1 - 1); // the −0.0 counts as zero
    assert.equal(l1?.maskDensity, kept1 / m1.length);
    assert.deepEqual(l2?.pattern, { keep: 2, of: 4 });
    assert.equal(l2?.density, 0.5);
    assert.equal(l1?.pattern, undefined);

    const sizes = (
      r.result.metrics as { sizes: Record<string, { bytes: number; gzipBytes: number }> }
    ).sizes;
    const sparseBytes =
      (await fs.stat(join(target, 'sparse.bin'))).size +
      (await fs.stat(join(target, 'sparse.json'))).size;
    assert.equal(sizes.sparse?.bytes, sparseBytes);
    const weights = await fs.readFile(join(target, 'weights.bin'));
    assert.equal(
      sizes.tfjs?.bytes,
      weights.length + (await fs.stat(join(target, 'model.json'))).size,
    );
    assert.ok(
      (sizes.sparse?.bytes ?? Infinity) < 0.5 * weights.length,
      'the sparse format of a ~20% dense model is much smaller',
    );
    assert.ok(
      (sizes.tfjs?.gzipBytes ?? 0) > 0 &&
        (sizes.tfjs?.gzipBytes ?? 0) < gzipSync(weights).length + 5000,
    );
    model.dispose();
  });

  it('exports a dense model without masks and bundles evaluate metrics', async () => {
    const model = makeModel();
    const input = await modelArtifact(model);
    model.dispose();
    const metrics = artifactFrom('metrics', tempDir(), { metrics: { accuracy: 0.875 } });
    const r = await runStage(exportStage, {}, { inputs: [input, metrics] });
    const files = await fs.readdir(r.ctx.outDir);
    assert.deepEqual(files.sort(), [
      'export.json',
      'metrics.json',
      'model.json',
      'sparsity.json',
      'weights.bin',
    ]);
    assert.deepEqual(JSON.parse(await fs.readFile(join(r.ctx.outDir, 'metrics.json'), 'utf8')), {
      accuracy: 0.875,
    });
  });
});
