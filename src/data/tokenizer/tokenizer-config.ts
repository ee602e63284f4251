// tokenizer_config.json, the transformers-side settings next to tokenizer.json: which special
// tokens play the bos/eos/unk/pad roles, the context length, and the tokenizer class to build.
import { ErrorCode, ScalpelError } from '../../errors.js';
import { tokensById, type BpeModel } from './bpe-model.js';
import { defaultModelMaxLength } from './tokenizer-defaults.js';

export interface TokenizerConfigOptions {
  /** Context length of the model the tokenizer is for (default: the stage schema's, 1024). */
  modelMaxLength?: number;
  /** Each role defaults by name: '<|endoftext|>' is bos, eos and unk (GPT-2); '<s>' bos, '</s>'
   *  eos, '<unk>' unk, '<pad>' pad (Llama). null: no token in that role. */
  bosToken?: string | null;
  eosToken?: string | null;
  unkToken?: string | null;
  padToken?: string | null;
}

export interface TokenizerConfigJson {
  added_tokens_decoder: Record<
    string,
    {
      content: string;
      lstrip: boolean;
      normalized: boolean;
      rstrip: boolean;
      single_word: boolean;
      special: boolean;
    }
  >;
  bos_token: string | null;
  eos_token: string | null;
  unk_token: string | null;
  pad_token: string | null;
  add_prefix_space: boolean;
  /** false: decode must not rewrite " ." to "." and the like, or decode(encode(x)) !== x. */
  clean_up_tokenization_spaces: boolean;
  model_max_length: number;
  tokenizer_class: 'PreTrainedTokenizerFast';
}

type Role = 'bosToken' | 'eosToken' | 'unkToken' | 'padToken';

const ROLES_BY_NAME: Record<string, readonly Role[]> = {
  '<|endoftext|>': ['bosToken', 'eosToken', 'unkToken'],
  '<s>': ['bosToken'],
  '</s>': ['eosToken'],
  '<unk>': ['unkToken'],
  '<pad>': ['padToken'],
};

function roleToken(model: BpeModel, options: TokenizerConfigOptions, role: Role): string | null {
  const given = options[role];
  if (given === undefined) {
    return model.specialTokens.find((t) => ROLES_BY_NAME[t]?.includes(role) === true) ?? null;
  }
  if (given !== null && !model.specialTokens.includes(given)) {
    throw new ScalpelError(
      ErrorCode.Data,
      `tokenizer config: ${role} ${JSON.stringify(given)} is not one of the special tokens ${JSON.stringify(model.specialTokens)}`,
      { hint: `train with ${JSON.stringify(given)} in specialTokens, or pick one of those` },
    );
  }
  return given;
}

/** The tokenizer_config.json object for `model`. */
export function tokenizerConfigJson(
  model: BpeModel,
  options: TokenizerConfigOptions = {},
): TokenizerConfigJson {
  tokensById(model);
  const modelMaxLength = options.modelMaxLength ?? defaultModelMaxLength;
  if (!Number.isInteger(modelMaxLength) || modelMaxLength < 1) {
    throw new ScalpelError(
      ErrorCode.Data,
      `tokenizer config: modelMaxLength must be a positive integer, got ${modelMaxLength}`,
      { hint: "set it to the model's context length" },
    );
  }
  return {
    added_tokens_decoder: Object.fromEntries(
      model.specialTokens.map((content, id) => [
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
    bos_token: roleToken(model, options, 'bosToken'),
    eos_token: roleToken(model, options, 'eosToken'),
    unk_token: roleToken(model, options, 'unkToken'),
    pad_token: roleToken(model, options, 'padToken'),
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}
