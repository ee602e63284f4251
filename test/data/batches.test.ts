import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/models/backend.js';
import { Rng } from '../../src/util/rng.js';
import {
  BatchCursor,
  batchRanges,
  disposeBatch,
  gatherToTensors,
  sliceSamples,
  sliceToTensors,
} from '../../src/data/batches.js';
import type { DatasetSplit } from '../../src/data/types.js';

// 10 samples of shape [2, 3]: value = 100*sample + position, label = sample % 4, id = 1000 + sample
function split(): DatasetSplit {
  const count = 10;
  const x = new Float32Array(count * 6).map((_, k) => 100 * Math.floor(k / 6) + (k % 6));
  const y = new Int32Array(count).map((_, i) => i % 4);
  const ids = new Int32Array(count).map((_, i) => 1000 + i);
  return { name: 'train', count, sampleShape: [2, 3], x, y, ids };
}

describe('batches', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('turns slices and gathered indices into tensors of the right shape and values', () => {
    const s = split();
    const before = tf.memory().numTensors;
    const b = sliceToTensors(s, 3, 6, 4);
    assert.equal(b.count, 3);
    assert.deepEqual(b.inputs.shape, [3, 2, 3]);
    assert.equal(b.inputs.dtype, 'float32');
    assert.deepEqual(
      Array.from(b.inputs.dataSync()).slice(0, 7),
      [300, 301, 302, 303, 304, 305, 400],
    );
    assert.deepEqual(Array.from(b.targets.dataSync()), [3, 0, 1]);
    assert.equal(b.targets.dtype, 'int32');
    assert.deepEqual(Array.from(sliceSamples(s, 3, 6).ids), [1003, 1004, 1005]); // ids stay on the samples
    disposeBatch(b);
    const g = gatherToTensors(s, [9, 0, 9], 4);
    assert.deepEqual(
      Array.from(g.inputs.dataSync()).filter((_, k) => k % 6 === 5),
      [905, 5, 905],
    );
    assert.deepEqual(Array.from(g.targets.dataSync()), [1, 0, 1]);
    disposeBatch(g);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    assert.throws(() => gatherToTensors(s, [10], 4), RangeError);
    assert.throws(() => sliceToTensors(s, 0, 5, 3), /label 3, outside \[0, 3\)/);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked on error');
  });

  it('batchRanges covers the split once', () => {
    assert.deepEqual(
      [...batchRanges(10, 4)],
      [
        { start: 0, end: 4 },
        { start: 4, end: 8 },
        { start: 8, end: 10 },
      ],
    );
    assert.deepEqual([...batchRanges(0, 4)], []);
  });

  it('the cursor wraps around in split order', () => {
    const c = new BatchCursor(split(), { batchSize: 4 });
    assert.deepEqual(Array.from(c.nextIndices()), [0, 1, 2, 3]);
    assert.deepEqual(Array.from(c.nextIndices()), [4, 5, 6, 7]);
    assert.deepEqual(Array.from(c.nextIndices()), [8, 9, 0, 1]);
    assert.equal(c.epoch, 1);
    assert.equal(c.position, 2);
  });

  it('a shuffling cursor is a fresh seeded permutation each epoch and reproducible', () => {
    const draw = (seed: number): number[][] => {
      const c = new BatchCursor(split(), { batchSize: 5, shuffle: true, rng: new Rng(seed) });
      return [0, 1, 2, 3].map(() => Array.from(c.nextIndices()));
    };
    const a = draw(42);
    assert.deepEqual(draw(42), a);
    assert.notDeepEqual(draw(43), a);
    const epoch0 = [...(a[0] ?? []), ...(a[1] ?? [])].sort((p, q) => p - q);
    const epoch1 = [...(a[2] ?? []), ...(a[3] ?? [])].sort((p, q) => p - q);
    assert.deepEqual(epoch0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(epoch1, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.notDeepEqual([...(a[0] ?? []), ...(a[1] ?? [])], [...(a[2] ?? []), ...(a[3] ?? [])]);
  });

  it('cursor batches as tensors leak nothing', () => {
    const c = new BatchCursor(split(), { batchSize: 3 });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) disposeBatch(c.next(4));
    assert.equal(tf.memory().numTensors, before);
  });
});
