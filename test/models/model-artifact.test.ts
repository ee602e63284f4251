import { strict as assert } from 'node:assert';
import { builtinFamilyLookup } from '../../src/models/families.js';
import { join } from 'node:path';
import { promises as fs } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/models/backend.js';
import { readModelArtifact, writeModelArtifact } from '../../src/models/model-artifact.js';
import {
  asPrunable,
  layersModelOf,
  listPrunableLayers,
  readKernel,
  writeKernel,
} from '../helpers/models.js';
import { loadLayersModelFromFile } from '../../src/models/tfjs-layers/model-files.js';
import { isScalpelError } from '../../src/errors.js';
import { tempDir } from '../helpers/paths.js';

function smallMlp(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.dense({ inputShape: [6], units: 5, activation: 'relu', name: 'linear1' }));
  m.add(tfl.layers.dense({ units: 3, name: 'linear2' }));
  return m;
}

describe('model artifact files', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('round-trips model + masks with identical predictions and kernels', async () => {
    const model = smallMlp();
    const dir = tempDir();
    const mask = new Uint8Array(30).map((_, i) => (i % 3 === 0 ? 0 : 1));
    const kernel = readKernel(model, 'linear1');
    for (let i = 0; i < kernel.length; i++) if (mask[i] === 0) kernel[i] = 0;
    writeKernel(model, 'linear1', kernel);
    const prunable = asPrunable(model);
    prunable.masks.set('linear1', mask);
    const manifest = await writeModelArtifact(dir, prunable, builtinFamilyLookup);
    assert.equal(manifest.paramCount, 6 * 5 + 5 + 5 * 3 + 3);
    const loaded = await readModelArtifact(dir, builtinFamilyLookup);
    assert.deepEqual([...(loaded.masks.get('linear1') ?? [])], [...mask]);
    assert.deepEqual(readKernel(loaded, 'linear1'), kernel);
    const x = tf.randomNormal([4, 6], 0, 1, 'float32', 7);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (layersModelOf(loaded).predict(x) as tf.Tensor).dataSync();
    assert.deepEqual(Array.from(b), Array.from(a));
    assert.deepEqual(
      listPrunableLayers(loaded).map((l) => [l.name, l.fanIn, l.units]),
      [
        ['linear1', 6, 5],
        ['linear2', 5, 3],
      ],
    );
    tf.dispose([x]);
    model.dispose();
    loaded.dispose();
  });

  it('reports a truncated weights file and corrupt model.json clearly', async () => {
    const dir = tempDir();
    await writeModelArtifact(dir, asPrunable(smallMlp()), builtinFamilyLookup);
    const weights = join(dir, 'weights.bin');
    const full = await fs.readFile(weights);
    await fs.writeFile(weights, full.subarray(0, full.length - 8));
    await assert.rejects(
      loadLayersModelFromFile(join(dir, 'model.json')),
      (e: unknown) => isScalpelError(e) && e.code === 'E_DATA' && /truncated/.test(e.message),
    );
    await fs.writeFile(join(dir, 'model.json'), '{"modelTopology": ');
    await assert.rejects(
      loadLayersModelFromFile(join(dir, 'model.json')),
      (e: unknown) => isScalpelError(e) && e.code === 'E_DATA' && /not valid JSON/.test(e.message),
    );
    await assert.rejects(
      loadLayersModelFromFile(join(dir, 'nope.json')),
      (e: unknown) => isScalpelError(e) && e.code === 'E_IO',
    );
  });
});
