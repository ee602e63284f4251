// tensorFilledInPlace / valuesView on the wasm and cpu backends: the tensor holds exactly what
// fill wrote, the view is the tensor's values (and on wasm its own storage: writing through a
// fill-time view is what the tensor reads back, with no allocation on the JavaScript side), a
// fill that throws leaves no tensor behind.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/models/backend.js';
import { tensorFilledInPlace, valuesView } from '../../src/models/tensor-storage.js';

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`tensor storage in place (${backend})`, () => {
    let previous = '';
    before(async () => {
      await initBackend('wasm');
      previous = tf.getBackend();
      await tf.setBackend(backend);
    });
    after(async () => {
      await tf.setBackend(previous);
    });

    it('a filled tensor holds what fill wrote; valuesView reads it back without a copy on wasm', () => {
      const before = tf.memory().numTensors;
      const shape = [3, 5];
      const t = tensorFilledInPlace(shape, (dst) => {
        assert.equal(dst.length, 15);
        for (let i = 0; i < dst.length; i++) dst[i] = i * 0.5 - 2;
      });
      try {
        assert.deepEqual(t.shape, shape);
        const expected = Array.from({ length: 15 }, (_, i) => i * 0.5 - 2);
        assert.deepEqual(Array.from(t.dataSync()), expected);
        // ops see the values too (the engine knows the tensor)
        const sum = tf.sum(t);
        assert.deepEqual(Array.from(sum.dataSync()), [expected.reduce((a, b) => a + b, 0)]);
        sum.dispose();
        const view = valuesView(t);
        assert.deepEqual(Array.from(view), expected);
        if (backend === 'wasm') {
          const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8;
          assert.equal(view.buffer, heap.buffer, 'a view of the wasm heap');
        }
      } finally {
        t.dispose();
      }
      assert.equal(tf.memory().numTensors, before, 'no tensors leak');
    });

    it('a fill that throws disposes the tensor and passes the error through', () => {
      const before = tf.memory().numTensors;
      assert.throws(
        () =>
          tensorFilledInPlace([4], () => {
            throw new Error('disk gone');
          }),
        /disk gone/,
      );
      assert.equal(tf.memory().numTensors, before);
    });

    it('valuesView refuses a non-float32 tensor', () => {
      const ids = tf.tensor1d([1, 2], 'int32');
      try {
        assert.throws(() => valuesView(ids), /dtype int32/);
      } finally {
        ids.dispose();
      }
    });
  });
}
