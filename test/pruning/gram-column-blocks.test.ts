// XᵀX of a layer wider than one column block (fanIn > 1024: computed as [fanIn, c] blocks so
// that no fanIn × fanIn float32 tensor is ever made) against a float64 XᵀX of the same inputs,
// on the wasm backend and the cpu backend; and the blocks' split itself.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { gramBlockColumns, layerStatistics } from '../../src/pruning/layer-statistics.js';
import { Rng } from '../../src/util/rng.js';
import { makeModel } from '../stages/fixtures.js';
import { asPrunable } from '../helpers/models.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

const fanIn = 1100;
const count = 12;

describe('layer statistics: XᵀX in column blocks', () => {
  it('splits a 1100-wide XᵀX into blocks of ≤ 2^20 values, and a 1024-wide one not at all', () => {
    assert.equal(gramBlockColumns(1100), 953);
    assert.equal(gramBlockColumns(1024), 1024);
    assert.equal(gramBlockColumns(3072), 341);
  });

  for (const backend of ['wasm', 'cpu']) {
    it(`equals a float64 XᵀX of the inputs (fanIn ${fanIn}, ${backend})`, async () => {
      const previous = tf.getBackend() as string | undefined;
      await tf.setBackend(backend);
      const model = makeModel({
        input: [fanIn],
        layers: [{ type: 'dense', units: 3, name: 'wide' }],
      });
      const prunable = asPrunable(model);
      try {
        const rng = new Rng(9);
        const x = Float32Array.from({ length: count * fanIn }, () => rng.normal());
        const samples = {
          name: 'train',
          count,
          sampleShape: [fanIn],
          x,
          y: new Int32Array(count),
          ids: Int32Array.from({ length: count }, (_, i) => i),
        };
        const info = prunable.operators.find((o) => o.name === 'wide');
        assert.ok(info);
        const before = tf.memory().numTensors;
        const stats = await layerStatistics(
          prunable,
          samples,
          [{ info, inputNorms: false, gram: true, meanGradient: false }],
          { batchSize: 5 },
        );
        assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
        const gram = stats.get('wide')?.gram;
        assert.ok(gram);
        const expected = new Float64Array(fanIn * fanIn);
        for (let r = 0; r < count; r++)
          for (let i = 0; i < fanIn; i++) {
            const xi = x[r * fanIn + i] as number;
            for (let j = 0; j < fanIn; j++)
              expected[i * fanIn + j] =
                (expected[i * fanIn + j] as number) + xi * (x[r * fanIn + j] as number);
          }
        // float32 products summed over 5 rows per batch: relative 1e-5 of the scale.
        expectArraysClose(gram, expected, { atol: 1e-4, rtol: 1e-5 });
      } finally {
        prunable.dispose();
        if (previous !== undefined) await tf.setBackend(previous);
      }
    });
  }
});
