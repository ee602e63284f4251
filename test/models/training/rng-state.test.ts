import { strict as assert } from 'node:assert';
import { Rng } from '../../../src/util/rng.js';

describe('Rng snapshot / restore', () => {
  it('a fresh Rng restored from a snapshot (through JSON) continues the identical stream', () => {
    const original = new Rng(17).fork('dropout');
    for (let i = 0; i < 1001; i++) original.nextUint32(); // an odd position, mid-stream
    const saved = JSON.parse(JSON.stringify(original.snapshot())) as ReturnType<Rng['snapshot']>;
    const expected = Array.from({ length: 200 }, () => original.nextUint32());
    const restored = new Rng(17).fork('dropout');
    restored.restore(saved);
    assert.deepEqual(
      Array.from({ length: 200 }, () => restored.nextUint32()),
      expected,
    );
    // Restoring rewinds: the same generator goes back and repeats itself.
    original.restore(saved);
    assert.equal(original.nextUint32(), expected[0]);
    // Forks depend on the seed only, so they agree after a restore too.
    assert.equal(
      restored.fork('x').nextUint32(),
      new Rng(17).fork('dropout').fork('x').nextUint32(),
    );
  });

  it('refuses a state of another seed or of the wrong shape', () => {
    const a = new Rng(1);
    const b = new Rng(2);
    assert.throws(() => b.restore(a.snapshot()), RangeError);
    assert.throws(() => a.restore({ seed: a.seed, words: [1, 2, 3] }), RangeError);
    assert.throws(() => a.restore({ seed: a.seed, words: [1, 2, 3, 2 ** 33] }), RangeError);
  });
});
