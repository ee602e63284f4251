// Tokenizers saved in Hugging Face's tokenizer.json format, run by @huggingface/tokenizers (the
// pure-JS port of HF tokenizers: BPE, WordPiece, Unigram models with their normalizers,
// pre-tokenizers and decoders). encode() adds no special tokens (document separators are the
// packer's job) and decode() returns the text as the decoder produces it, without the "clean up
// tokenization spaces" rewriting, so decode(encode(t)) === t for byte-level BPE tokenizers.
// EOS/BOS come from tokenizer_config.json (eos_token, bos_token) when there is one, else from the
// tokenizer's special added tokens with a conventional name (<|endoftext|>, </s>, …).
// Beware: the library's BPE silently drops pieces outside its vocabulary when the model has
// neither unk_token nor byte_fallback; byte-level BPE tokenizers cover every input.
import { Tokenizer } from '@huggingface/tokenizers';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { badData, invalidJson } from '../../error-factories.js';
import { isObject } from '../../util/is-object.js';
import { decodeText, readBytes } from './read-text.js';

export interface TextTokenizer {
  /** The tokenizer.json it was loaded from. */
  readonly path: string;
  /** 1 + the largest token id (added tokens included). */
  readonly vocabSize: number;
  readonly eosId: number | undefined;
  readonly bosId: number | undefined;
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
}

export interface LoadTokenizerOptions {
  /** tokenizer_config.json; by default the one next to tokenizer.json, if there is one. */
  readonly configPath?: string;
}

// The package's .d.ts files use extensionless imports NodeNext cannot follow, so TypeScript sees
// none of its types: name here what this file uses of its Tokenizer, Encoding and AddedToken.
interface EncodedText {
  readonly ids: number[];
  readonly tokens: string[];
}
interface AddedTokenInfo {
  readonly content: string;
  readonly special: boolean;
}
interface HfTokenizer {
  token_to_id(token: string): number | undefined;
  get_added_tokens_decoder(): Map<number, AddedTokenInfo>;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
  encode(text: string, options: { add_special_tokens: boolean }): EncodedText;
  decode(
    ids: number[],
    options: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean },
  ): string;
}
type HfTokenizerClass = new (tokenizer: object, config: object) => HfTokenizer;

const TOKENIZER_METHODS = [
  'token_to_id',
  'get_added_tokens_decoder',
  'get_vocab',
  'encode',
  'decode',
] as const;

/** True for a class whose instances have the methods HfTokenizer names (the library's Tokenizer). */
function isTokenizerClass(value: unknown): value is HfTokenizerClass {
  const proto: unknown = typeof value === 'function' ? value.prototype : undefined;
  return isObject(proto) && TOKENIZER_METHODS.every((m) => typeof proto[m] === 'function');
}

const EOS_NAMES = ['<|endoftext|>', '</s>', '<eos>', '<|end_of_text|>', '<|eos|>'];
const BOS_NAMES = ['<s>', '<bos>', '<|begin_of_text|>', '<|startoftext|>', '<|bos|>'];
const COMPONENTS = ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder'] as const;

async function readJsonObject(path: string, what: string): Promise<Record<string, unknown>> {
  const text = decodeText(await readBytes(path, what), path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalidJson(path, e, { hint: `${what} must be a JSON object` });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw badData(path, 'not a JSON object', { hint: `${what} must be a JSON object` });
  }
  return json as Record<string, unknown>;
}

/** A token named in tokenizer_config.json: a string or an AddedToken-like { content }. */
function tokenName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { content?: unknown }).content === 'string'
  ) {
    return (value as { content: string }).content;
  }
  return undefined;
}

function specialId(
  tokenizer: HfTokenizer,
  config: Record<string, unknown>,
  key: 'eos_token' | 'bos_token',
  conventional: readonly string[],
  configPath: string | undefined,
): number | undefined {
  const named = tokenName(config[key]);
  if (named !== undefined) {
    const id = tokenizer.token_to_id(named);
    if (id === undefined) {
      throw badData(
        configPath ?? 'tokenizer_config.json',
        `${key} '${named}' is not in the tokenizer's vocabulary`,
        { hint: 'the config and tokenizer.json must come from the same tokenizer' },
      );
    }
    return id;
  }
  const added = tokenizer.get_added_tokens_decoder();
  const special = [...added.values()].filter((t) => t.special).map((t) => t.content);
  const found = conventional.find((n) => special.includes(n));
  return found === undefined ? undefined : tokenizer.token_to_id(found);
}

export async function loadTokenizer(
  tokenizerPath: string,
  opts: LoadTokenizerOptions = {},
): Promise<TextTokenizer> {
  const json = await readJsonObject(tokenizerPath, 'tokenizer.json');
  if (typeof json.model !== 'object' || json.model === null) {
    throw badData(tokenizerPath, "no 'model' object", {
      hint: 'give a Hugging Face tokenizer.json (saved with tokenizer.save or save_pretrained)',
    });
  }
  // Hand-written files may leave out the components they do not use; the library wants them all.
  const full: Record<string, unknown> = { added_tokens: [], ...json };
  for (const c of COMPONENTS) if (!(c in full)) full[c] = null;

  const sibling = join(dirname(tokenizerPath), 'tokenizer_config.json');
  const configPath = opts.configPath ?? (existsSync(sibling) ? sibling : undefined);
  const config =
    configPath !== undefined ? await readJsonObject(configPath, 'tokenizer_config.json') : {};

  if (!isTokenizerClass(Tokenizer)) {
    throw new Error('@huggingface/tokenizers: its Tokenizer class lacks the methods scalpel uses');
  }
  let tokenizer: HfTokenizer;
  try {
    tokenizer = new Tokenizer(full, config);
  } catch (e) {
    throw badData(tokenizerPath, `not a usable tokenizer: ${(e as Error).message}`, {
      hint: 'give a Hugging Face tokenizer.json (BPE, WordPiece or Unigram model)',
      cause: e,
    });
  }
  let vocabSize = 0;
  for (const id of tokenizer.get_vocab(true).values()) vocabSize = Math.max(vocabSize, id + 1);
  const eosId = specialId(tokenizer, config, 'eos_token', EOS_NAMES, configPath);
  const bosId = specialId(tokenizer, config, 'bos_token', BOS_NAMES, configPath);

  return {
    path: tokenizerPath,
    vocabSize,
    eosId,
    bosId,
    encode(text: string): number[] {
      const { ids, tokens } = tokenizer.encode(text, { add_special_tokens: false });
      const bad = ids.findIndex((id) => !Number.isInteger(id));
      if (bad >= 0) {
        throw badData(
          tokenizerPath,
          `cannot encode the token ${JSON.stringify(tokens[bad])}: neither it nor the unk_token is in the vocabulary`,
          { hint: 'use a byte-level tokenizer, or one with an unk_token' },
        );
      }
      return ids;
    },
    decode(ids: ArrayLike<number>): string {
      if (ids.length === 0) return '';
      return tokenizer.decode(Array.from(ids), {
        skip_special_tokens: false,
        clean_up_tokenization_spaces: false,
      });
    },
  };
}
