// The Hugging Face tokenizer.json for a trained model, laid out like GPT-2's own file (ByteLevel
// pre-tokenizer, post-processor and decoder; a BPE model with merges as "left right" strings,
// which is unambiguous because byte-level tokens never contain a space). Checked against what
// @huggingface/tokenizers 0.2 reads: the five pipeline keys must be present (null allowed), merges
// may be strings or pairs, an empty end_of_word_suffix means none, ignore_merges is read; the
// Rust field name continuing_subword_prefix is written and ignored there. Special tokens are added
// tokens: matched before pre-tokenization, never split.
import { tokensById, type BpeModel } from './bpe-model.js';

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export interface ByteLevelJson {
  type: 'ByteLevel';
  add_prefix_space: boolean;
  trim_offsets: boolean;
  use_regex: boolean;
}

export interface BpeModelJson {
  type: 'BPE';
  dropout: null;
  unk_token: null;
  continuing_subword_prefix: string;
  end_of_word_suffix: string;
  fuse_unk: boolean;
  byte_fallback: boolean;
  ignore_merges: boolean;
  vocab: Record<string, number>;
  merges: string[];
}

export interface TokenizerJson {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: AddedTokenJson[];
  normalizer: null;
  pre_tokenizer: ByteLevelJson;
  post_processor: ByteLevelJson;
  decoder: ByteLevelJson;
  model: BpeModelJson;
}

/** The tokenizer.json object for `model` (serialise it with JSON.stringify). */
export function tokenizerJson(model: BpeModel): TokenizerJson {
  const tokens = tokensById(model);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: model.specialTokens.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    // The values GPT-2's tokenizer.json has; add_prefix_space: false keeps decode(encode(x)) === x.
    pre_tokenizer: {
      type: 'ByteLevel',
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: {
      type: 'ByteLevel',
      add_prefix_space: true,
      trim_offsets: false,
      use_regex: true,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      // fromEntries defines own properties, so even a token spelled '__proto__' is kept.
      vocab: Object.fromEntries(tokens.map((t, id) => [t, id])),
      merges: model.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}
