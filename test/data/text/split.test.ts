// The document-level split: every document in exactly one split, the assignment recomputed here
// from the documented rule (SHA-256 of the id → u in [0, 1) against the fractions), stable when
// documents are added, small corpora given a document per split, and duplicates removed.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { isScalpelError } from '../../../src/errors.js';
import type { Document } from '../../../src/data/text/document.js';
import {
  documentHashFraction,
  splitDocuments,
  type DocumentSplits,
} from '../../../src/data/text/split.js';

const doc = (id: string, text = `text of ${id}`): Document => ({ id, source: 'text', text });
const corpus = (n: number, prefix = 'd'): Document[] =>
  Array.from({ length: n }, (_, i) => doc(`${prefix}/${String(i).padStart(4, '0')}`));

/** u of the rule, computed independently: the first 6 bytes of SHA-256 as an integer / 2^48. */
function u(id: string, salt = ''): number {
  const h = createHash('sha256').update(`${salt}\n${id}`).digest();
  let x = 0;
  for (let i = 0; i < 6; i++) x = x * 256 + (h[i] as number);
  return x / 2 ** 48;
}

function splitOf(s: DocumentSplits): Map<string, string> {
  const m = new Map<string, string>();
  for (const name of ['train', 'validation', 'test'] as const) {
    for (const d of s[name]) {
      assert.ok(!m.has(d.id), `${d.id} is in two splits`);
      m.set(d.id, name);
    }
  }
  return m;
}

describe('document split', () => {
  it('puts every document in exactly one split, by the hash of its id', () => {
    const docs = corpus(400);
    const s = splitDocuments(docs, { validation: 0.1, test: 0.05 });
    const where = splitOf(s);
    assert.equal(where.size, docs.length);
    for (const d of docs) {
      const x = u(d.id);
      assert.equal(documentHashFraction(d.id), x);
      assert.equal(where.get(d.id), x < 0.1 ? 'validation' : x < 0.15 ? 'test' : 'train', d.id);
    }
    // binomial(400, 0.1): mean 40, sd 6; binomial(400, 0.05): mean 20, sd 4.4
    assert.ok(s.validation.length > 20 && s.validation.length < 60, `${s.validation.length}`);
    assert.ok(s.test.length > 7 && s.test.length < 33, `${s.test.length}`);
    // input order kept inside a split
    const order = docs.map((d) => d.id);
    for (const part of [s.train, s.validation, s.test]) {
      const idx = part.map((d) => order.indexOf(d.id));
      assert.deepEqual(
        idx,
        [...idx].sort((a, b) => a - b),
      );
    }
  });

  it('is deterministic, and a salt draws another split', () => {
    const docs = corpus(200);
    assert.deepEqual(splitDocuments(docs), splitDocuments([...docs]));
    const salted = splitOf(splitDocuments(docs, { salt: 'other' }));
    for (const d of docs) {
      const x = u(d.id, 'other');
      assert.equal(salted.get(d.id), x < 0.05 ? 'validation' : x < 0.1 ? 'test' : 'train');
    }
    assert.notDeepEqual(salted, splitOf(splitDocuments(docs)));
  });

  it('does not move any document when others are added', () => {
    const docs = corpus(300);
    const before = splitOf(splitDocuments(docs));
    const after = splitOf(
      splitDocuments([...corpus(50, 'new'), ...docs.slice(0, 150), doc('x/1'), ...docs.slice(150)]),
    );
    for (const [id, name] of before) assert.equal(after.get(id), name, id);
  });

  it('gives small corpora (≥ 3 documents) at least one document per split', () => {
    for (let n = 3; n <= 15; n++) {
      const docs = corpus(n, `small${n}`);
      const s = splitDocuments(docs);
      assert.ok(s.train.length >= 1 && s.validation.length >= 1 && s.test.length >= 1, `n = ${n}`);
      assert.equal(splitOf(s).size, n);
      assert.deepEqual(s, splitDocuments(docs));
    }
    // By hand, from u (computed above): a 0.4507, b 0.3690, c 0.6443 all hash into train. The
    // validation interval [0, 0.05) is nearest to b; then test's [0.05, 0.1), among the splits
    // with 2+ documents (train: a, c), nearest to a.
    const abc = splitDocuments([doc('a'), doc('b'), doc('c')]);
    assert.deepEqual(
      [u('a'), u('b'), u('c')].map((x) => x.toFixed(4)),
      ['0.4507', '0.3690', '0.6443'],
    );
    assert.deepEqual(
      [abc.train, abc.validation, abc.test].map((p) => p.map((d) => d.id)),
      [['c'], ['b'], ['a']],
    );
    // book-c 0.0648 hashes into test, the others (0.6837, 0.5816, 0.1687) into train; validation
    // takes the train document nearest [0, 0.05): book-d.
    const books = splitDocuments(['book-a', 'book-b', 'book-c', 'book-d'].map((id) => doc(id)));
    assert.deepEqual(
      [books.train, books.validation, books.test].map((p) => p.map((d) => d.id)),
      [['book-a', 'book-b'], ['book-d'], ['book-c']],
    );
    // a split with fraction 0 stays empty; fewer than 3 documents are not spread
    assert.equal(splitDocuments(corpus(10), { test: 0 }).test.length, 0);
    const two = splitDocuments(corpus(2, 'two'));
    assert.equal(two.train.length + two.validation.length + two.test.length, 2);
  });

  it('drops exact duplicates (whitespace aside) and empty documents, keeping the first', () => {
    const docs = [
      doc('a/1', 'The same  text.\n'),
      doc('b/1', 'Unique text.'),
      doc('c/1', ' The same\ttext. '),
      doc('c/2', 'The same text!'),
      doc('c/3', ' \n\t '),
      doc('d/1', 'Unique text.'),
    ];
    const s = splitDocuments(docs);
    assert.deepEqual(s.duplicates, [
      { id: 'c/1', duplicateOf: 'a/1' },
      { id: 'd/1', duplicateOf: 'b/1' },
    ]);
    assert.equal(s.emptyDropped, 1);
    assert.deepEqual([...splitOf(s).keys()].sort(), ['a/1', 'b/1', 'c/2']);
  });

  it('rejects repeated ids and impossible fractions', () => {
    const code = (c: string) => (e: unknown) => isScalpelError(e) && e.code === c;
    assert.throws(() => splitDocuments([doc('a'), doc('a', 'other')]), code('E_DATA'));
    assert.throws(
      () => splitDocuments(corpus(5), { validation: 0.6, test: 0.4 }),
      code('E_RECIPE_SCHEMA'),
    );
    assert.throws(() => splitDocuments(corpus(5), { validation: -0.1 }), code('E_RECIPE_SCHEMA'));
    assert.throws(() => splitDocuments(corpus(5), { test: Number.NaN }), code('E_RECIPE_SCHEMA'));
  });
});
