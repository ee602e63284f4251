import { strict as assert } from 'node:assert';
import { learnMerges } from '../../../src/data/tokenizer/learn-merges.js';

describe('learnMerges', () => {
  const limits = { vocabSize: 100, minFrequency: 1, maxMerges: 100 };

  it('reuses the id of a token that already exists and re-ranks the pairs whose count grew', () => {
    // Ids: a 0, b 1, ab 2, x 3, y 4, z 5. Counts: x·a 5, a·b 5, y·z 3, x·ab 1.
    // a+b (5, tie with x·a broken by 'a' < 'x') spells the existing 'ab': word 1 becomes x ab,
    // so x·ab grows from 1 to 6 and must be merged before y·z (3); x·a drops to 0.
    const tokens = ['a', 'b', 'ab', 'x', 'y', 'z'];
    const words = [
      [3, 2],
      [3, 0, 1],
      [4, 5],
    ];
    const merges = learnMerges(tokens, words, [1, 5, 3], limits);
    assert.deepEqual(merges, [
      ['a', 'b'],
      ['x', 'ab'],
      ['y', 'z'],
    ]);
    assert.deepEqual(tokens, ['a', 'b', 'ab', 'x', 'y', 'z', 'xab', 'yz']);
    assert.deepEqual(words, [[6], [6], [7]]);
  });

  it('merges overlapping runs left to right and stops at the limits', () => {
    const tokens = ['a'];
    const words = [[0, 0, 0, 0, 0]]; // a a a a a: a·a 4 → aa aa a: aa·aa 1, aa·a 1
    const merges = learnMerges(tokens, words, [1], { ...limits, maxMerges: 1 });
    assert.deepEqual(merges, [['a', 'a']]);
    assert.deepEqual(words, [[1, 1, 0]]);
    const more = learnMerges(['a'], [[0, 0, 0, 0, 0]], [1], { ...limits, vocabSize: 3 });
    assert.deepEqual(more, [
      ['a', 'a'],
      ['aa', 'a'],
    ]);
    const frequent = learnMerges(['a'], [[0, 0, 0, 0, 0]], [1], { ...limits, minFrequency: 2 });
    assert.deepEqual(frequent, [['a', 'a']], 'after a·a every pair occurs once');
  });
});
