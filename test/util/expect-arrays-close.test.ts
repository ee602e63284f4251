import { strict as assert } from 'node:assert';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

describe('expectArraysClose (test helper)', () => {
  it('accepts values within atol + rtol·|e| and refuses the first one outside, by index', () => {
    expectArraysClose([1, 2.00001, -3], [1, 2, -3]);
    expectArraysClose(new Float32Array([100.05]), [100], { atol: 0, rtol: 1e-3 });
    assert.throws(
      () => expectArraysClose([1, 2, 3.1, 9], [1, 2, 3, 4], 0.01),
      /index 2: 3\.1 is not within 0\.01/,
    );
    assert.throws(() => expectArraysClose([100.2], [100], { atol: 0, rtol: 1e-3 }), /index 0/);
    // the bound is inclusive (tfjs-core): exactly atol away passes
    expectArraysClose([0.5], [0], 0.5);
  });

  it('checks lengths and treats NaN and infinities exactly', () => {
    assert.throws(() => expectArraysClose([1, 2], [1, 2, 3]), /length 2, expected 3/);
    expectArraysClose([NaN, Infinity, -Infinity], [NaN, Infinity, -Infinity]);
    assert.throws(() => expectArraysClose([0], [NaN], 1), /index 0/);
    assert.throws(() => expectArraysClose([NaN], [0], 1), /index 0/);
    assert.throws(() => expectArraysClose([1e308], [Infinity], 1), /index 0/);
  });
});
