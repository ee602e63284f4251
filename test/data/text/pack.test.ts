// Packing against windows written out by hand and against a brute-force reference (build the
// token stream, slice it), the DatasetSplit conversion with its float32 limit, the per-split
// counts and UTF-8 bytes, and the whole split → tokenize → pack path on the tiny tokenizer.
import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isScalpelError } from '../../../src/errors.js';
import { utf8Bytes } from '../../../src/data/text/corpus-stats.js';
import type { Document } from '../../../src/data/text/document.js';
import { packDocuments, toDatasetSplit } from '../../../src/data/text/pack.js';
import { tokenizeAndPack } from '../../../src/data/text/text-dataset.js';
import { loadTokenizer } from '../../../src/data/text/tokenize.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/paths.js';
import { EOS, THE, writeTinyTokenizer } from './tiny-tokenizer.js';

const fails = (code: string, re: RegExp) => (e: unknown) =>
  isScalpelError(e) && e.code === code && re.test(e.message);

const windows = (ids: Int32Array, n: number): number[][] =>
  Array.from({ length: ids.length / n }, (_, i) => [...ids.subarray(i * n, (i + 1) * n)]);

describe('packing', () => {
  const docs = [[1, 2, 3], [4, 5], [], [6, 7, 8, 9]];

  it('puts EOS between documents and drops the incomplete tail', () => {
    // stream 1 2 3 | 0 | 4 5 | 0 | 6 7 8 9  (the empty document adds no separator) = 11 tokens
    const p = packDocuments('train', docs, { seqLength: 3, separator: true, eosId: 0 });
    assert.deepEqual(windows(p.ids, 3), [
      [1, 2, 3],
      [0, 4, 5],
      [0, 6, 7],
    ]);
    assert.deepEqual(
      {
        count: p.count,
        documents: p.documents,
        tokens: p.tokens,
        sep: p.separatorTokens,
        dropped: p.droppedTokens,
      },
      { count: 3, documents: 4, tokens: 9, sep: 2, dropped: 2 },
    );
  });

  it('concatenates without separators when asked', () => {
    const p = packDocuments('train', docs, { seqLength: 4, separator: false });
    assert.deepEqual(windows(p.ids, 4), [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    assert.equal(p.droppedTokens, 1);
    assert.equal(p.separatorTokens, 0);
    const exact = packDocuments('x', docs, { seqLength: 3, separator: false });
    assert.equal(exact.count, 3);
    assert.equal(exact.droppedTokens, 0);
    const none = packDocuments('x', [[1, 2]], { seqLength: 5, separator: true, eosId: 0 });
    assert.deepEqual([none.count, none.ids.length, none.droppedTokens], [0, 0, 2]);
  });

  it('matches a brute-force reference on random documents', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 30; trial++) {
      const ds = Array.from({ length: 1 + rng.int(8) }, () =>
        Array.from({ length: rng.int(12) }, () => 1 + rng.int(1000)),
      );
      const seqLength = 1 + rng.int(9);
      const separator = rng.int(2) === 1;
      const stream: number[] = [];
      for (const d of ds.filter((d) => d.length > 0)) {
        if (separator && stream.length > 0) stream.push(0);
        stream.push(...d);
      }
      const count = Math.floor(stream.length / seqLength);
      const p = packDocuments('t', ds, { seqLength, separator, eosId: 0 });
      assert.equal(p.count, count);
      assert.deepEqual([...p.ids], stream.slice(0, count * seqLength));
      assert.equal(p.droppedTokens, stream.length - count * seqLength);
    }
  });

  it('converts to a DatasetSplit of float token ids, exact below 2^24', () => {
    const p = packDocuments('validation', docs, { seqLength: 3, separator: true, eosId: 0 });
    const s = toDatasetSplit(p);
    assert.equal(s.name, 'validation');
    assert.equal(s.count, 3);
    assert.deepEqual(s.sampleShape, [3]);
    assert.ok(s.x instanceof Float32Array);
    assert.deepEqual([...s.x], [1, 2, 3, 0, 4, 5, 0, 6, 7]);
    assert.deepEqual([...s.y], [0, 0, 0]);
    assert.deepEqual([...s.ids], [0, 1, 2]);
    assert.equal(toDatasetSplit(p, 'val').name, 'val');
    const big = packDocuments('t', [[2 ** 24 - 1, 2 ** 24]], { seqLength: 1, separator: false });
    assert.throws(
      () => toDatasetSplit(big),
      fails('E_DATA', /token id 16777216 cannot be stored exactly/),
    );
    const edge = toDatasetSplit(
      packDocuments('t', [[2 ** 24 - 1]], { seqLength: 1, separator: false }),
    );
    assert.equal(edge.x[0], 16777215);
  });

  it('rejects bad options and ids', () => {
    assert.throws(
      () => packDocuments('t', docs, { seqLength: 0, separator: false }),
      fails('E_RECIPE_SCHEMA', /seqLength/),
    );
    assert.throws(
      () => packDocuments('t', docs, { seqLength: 2.5, separator: false }),
      fails('E_RECIPE_SCHEMA', /seqLength/),
    );
    assert.throws(
      () => packDocuments('t', docs, { seqLength: 2, separator: true }),
      fails('E_DATA', /no EOS token/),
    );
    assert.throws(
      () => packDocuments('t', [[1, -1]], { seqLength: 2, separator: false }),
      fails('E_DATA', /document 0 .* invalid token id -1/),
    );
  });
});

describe('split statistics and the text pipeline', () => {
  const doc = (id: string, text: string): Document => ({ id, source: 'text', text });

  it('counts UTF-8 bytes, not characters', () => {
    // h é(2) l l o = 6 bytes; € = 3 bytes; 日本 = 6 bytes
    assert.equal(utf8Bytes([doc('a', 'héllo'), doc('b', '€'), doc('c', '日本')]), 15);
  });

  it('tokenizes and packs each split in order, with counts', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'tok'));
    const tok = await loadTokenizer(writeTinyTokenizer(join(dir, 'tok')));
    const splits = {
      train: [doc('a', 'the'), doc('b', 'cat')],
      validation: [doc('c', 'é')],
      test: [],
      duplicates: [],
      emptyDropped: 0,
    };
    const { splits: packed, stats } = tokenizeAndPack(splits, tok, {
      seqLength: 2,
      separator: true,
    });
    // train: the(257) EOS c a t → [257, 259] [99, 97], 't' dropped; validation: é = C3 A9
    assert.deepEqual(
      packed.map((p) => p.name),
      ['train', 'validation', 'test'],
    );
    assert.deepEqual(windows(packed[0]?.ids as Int32Array, 2), [
      [THE, EOS],
      [99, 97],
    ]);
    assert.deepEqual([...(packed[1]?.ids as Int32Array)], [0xc3, 0xa9]);
    assert.deepEqual(stats, [
      {
        name: 'train',
        documents: 2,
        tokens: 4,
        separatorTokens: 1,
        sequences: 2,
        seqLength: 2,
        droppedTokens: 1,
        bytes: 6,
      },
      {
        name: 'validation',
        documents: 1,
        tokens: 2,
        separatorTokens: 0,
        sequences: 1,
        seqLength: 2,
        droppedTokens: 0,
        bytes: 2,
      },
      {
        name: 'test',
        documents: 0,
        tokens: 0,
        separatorTokens: 0,
        sequences: 0,
        seqLength: 2,
        droppedTokens: 0,
        bytes: 0,
      },
    ]);
  });
});
