// packMask / unpackMask: the round trip gives the mask back for lengths that are and are not a
// multiple of 8, and the bits are where the layout says (checked bit by bit, written out here).
import assert from 'node:assert/strict';
import { packMask, unpackMask } from '../../src/pruning/packed-mask.js';
import { Rng } from '../../src/util/rng.js';

describe('packed masks', () => {
  for (const length of [0, 1, 7, 8, 9, 64, 1001]) {
    it(`round trip and bit layout, length ${length}`, () => {
      const rng = new Rng(length + 1);
      const mask = Uint8Array.from({ length }, () => (rng.float() < 0.4 ? 1 : 0));
      const packed = packMask(mask);
      assert.equal(packed.bits.length, Math.ceil(length / 8));
      for (let i = 0; i < length; i++) {
        const bit = Math.floor((packed.bits[Math.floor(i / 8)] as number) / 2 ** (i % 8)) % 2;
        assert.equal(bit, mask[i], `entry ${i}`);
      }
      assert.deepEqual(unpackMask(packed), mask);
    });
  }
});
