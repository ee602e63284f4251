// Bits per byte from the mean NLL, against values worked out by hand.
import { strict as assert } from 'node:assert';
import { bitsPerByte, splitTextCounts } from '../../src/eval/bits-per-byte.js';

describe('eval: bits per byte', () => {
  it('total NLL in bits over the bytes the predicted tokens stand for', () => {
    // 10 predicted tokens at ln 2 nats each = 10 bits; the split has 2 bytes per token → 20 bytes.
    assert.equal(bitsPerByte(Math.LN2, 10, { bytes: 200, tokens: 100 }), 0.5);
    // 30 tokens at 2 nats = 60 nats = 86.5617… bits over 30 × 4 = 120 bytes.
    assert.ok(
      Math.abs(bitsPerByte(2, 30, { bytes: 400, tokens: 100 }) - 60 / Math.LN2 / 120) < 1e-12,
    );
  });

  it('reads a split’s counts from a text dataset’s provenance, and nothing from other datasets', () => {
    const provenance = { splits: { test: { bytes: 791938, tokens: 228776 } } };
    assert.deepEqual(splitTextCounts(provenance, 'test'), { bytes: 791938, tokens: 228776 });
    assert.equal(splitTextCounts(provenance, 'validation'), undefined);
    assert.equal(splitTextCounts(undefined, 'test'), undefined);
  });
});
