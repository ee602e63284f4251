// Residual blocks with a projection shortcut (model-spec.ts): the shortcut is a 1×1 conv with the
// stride that takes the block's input to its output shape, then batch norm — checked by zeroing the
// inner stack so the block computes relu(BN(conv1x1(x))), against a float64 computation written
// here; the kernels follow the seed; a shape change without a shortcut is a clear error.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { isScalpelError } from '../../src/errors.js';
import { initBackend } from '../../src/models/backend.js';
import { buildModel, type ModelSpec } from '../../src/models/model-spec.js';
import { Rng } from '../../src/util/rng.js';

const spec = (shortcut?: 'projection'): ModelSpec => ({
  input: [6, 6, 2],
  layers: [
    {
      type: 'residual',
      name: 'block.add',
      ...(shortcut !== undefined ? { shortcut } : {}),
      layers: [
        {
          type: 'conv2d',
          filters: 3,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          name: 'block.conv1',
        },
        { type: 'batchNorm', name: 'block.bn1' },
      ],
    },
  ],
});

function kernels(model: tfl.LayersModel): Float32Array[] {
  return model.weights.map((w) => Float32Array.from(w.read().dataSync()));
}

describe('residual blocks with a projection shortcut', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('adds relu(BN(1×1 conv, stride 2)) of the input: the float64 computation', () => {
    const model = buildModel(spec('projection'), new Rng(3), 'test');
    const sc = model.getLayer('block.add.shortcut');
    assert.equal(sc.getClassName(), 'Conv2D');
    assert.deepEqual((sc.getConfig() as { strides: number[] }).strides, [2, 2]);
    assert.equal(sc.getWeights().length, 1, 'no bias: batch norm follows');
    assert.equal(model.getLayer('block.add.shortcut.bn').getClassName(), 'BatchNormalization');
    assert.deepEqual(model.outputs[0]?.shape, [null, 3, 3, 3]);
    // Zero the inner stack: the block's output is the shortcut alone.
    const conv1 = model.getLayer('block.conv1');
    conv1.setWeights(conv1.getWeights().map((w) => tf.zerosLike(w)));
    const k = sc.getWeights()[0]!.dataSync(); // [1, 1, 2, 3]
    const rng = new Rng(8);
    const xs = Float32Array.from({ length: 6 * 6 * 2 }, () => rng.normal());
    const x = tf.tensor4d(xs, [1, 6, 6, 2]);
    const y = model.predict(x) as tf.Tensor;
    const got = y.dataSync();
    const eps = 1e-3; // tfjs' BatchNormalization default; fresh moving stats are mean 0, variance 1
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++)
        for (let o = 0; o < 3; o++) {
          let z = 0;
          for (let c = 0; c < 2; c++) z += xs[(2 * i * 6 + 2 * j) * 2 + c]! * k[c * 3 + o]!;
          const want = Math.max(0, z / Math.sqrt(1 + eps));
          assert.ok(Math.abs(got[(i * 3 + j) * 3 + o]! - want) < 1e-5, `(${i}, ${j}, ${o})`);
        }
    tf.dispose([x, y]);
    model.dispose();
  });

  it('initialises the shortcut from the seed (same seed same kernels, another seed others)', () => {
    const [a, b, c] = [3, 3, 4].map((s) => buildModel(spec('projection'), new Rng(s), 'test'));
    assert.deepEqual(kernels(a!), kernels(b!));
    assert.notDeepEqual(
      a!.getLayer('block.add.shortcut').getWeights()[0]!.dataSync(),
      c!.getLayer('block.add.shortcut').getWeights()[0]!.dataSync(),
    );
    for (const m of [a, b, c]) m!.dispose();
  });

  it('a block that changes the shape without a shortcut is E_RECIPE_SCHEMA suggesting one', () => {
    assert.throws(
      () => buildModel(spec(), new Rng(3), "stage 'model'"),
      (e: unknown) => {
        assert.ok(isScalpelError(e), String(e));
        assert.equal(e.code, 'E_RECIPE_SCHEMA');
        assert.match(e.message, /stage 'model'.*layers\[0\]/);
        assert.match(e.hint ?? '', /shortcut: projection/);
        return true;
      },
    );
  });
});
