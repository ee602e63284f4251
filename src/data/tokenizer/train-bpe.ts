// Byte-level BPE training as GPT-2 does it: the text is cut into words by GPT-2's regex, each
// word is spelled in the 256-symbol byte alphabet, and the most frequent adjacent pair is merged
// until the vocabulary is full. The result is deterministic: the same texts in the same order
// and the same options give the same vocabulary and merges (see docs/tokenizer.md).
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { BpeModel } from './bpe-model.js';
import { BYTE_SYMBOLS_BY_CODE_POINT, BYTE_TO_SYMBOL, isByteSymbol } from './byte-alphabet.js';
import { MAX_VOCAB_SIZE, learnMerges } from './learn-merges.js';
import { countWords } from './pre-tokenize.js';
import { defaultMinFrequency } from './tokenizer-defaults.js';

export interface TrainBpeOptions {
  /** Size of the final vocabulary, special tokens and the 256 byte symbols included. */
  vocabSize: number;
  /** A pair is merged only if it occurs at least this often (default: the stage schema's, 2). */
  minFrequency?: number;
  /** Tokens that get the first ids, are never split and are cut out of the training text. */
  specialTokens?: readonly string[];
  /** Stop after this many merges even if the vocabulary is not full. */
  maxMerges?: number;
  /** Called every 64 merges and once at the end with (merges so far, most merges possible). */
  progress?: (mergesDone: number, mergesMax: number) => void;
}

function fail(message: string, hint: string): never {
  throw new ScalpelError(ErrorCode.Data, `BPE training: ${message}`, { hint });
}

function checkCount(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(
      `${name} must be an integer in [${min}, ${max}], got ${value}`,
      `set ${name} to ${min} or more`,
    );
  }
}

/**
 * Special tokens must be distinct, non-empty, and unable to collide with a byte symbol or a
 * learned token: a token made only of byte-alphabet characters could be spelled by the corpus
 * (e.g. 'Ġhi' is the spelling of ' hi') unless it is plain ASCII of length ≥ 2, which is cut out
 * of the text before training and so never learned.
 */
function checkSpecialTokens(specialTokens: readonly string[]): void {
  const seen = new Set<string>();
  for (const token of specialTokens) {
    if (typeof token !== 'string' || token === '') {
      fail(
        `special tokens must be non-empty strings, got ${JSON.stringify(token)}`,
        "use e.g. '<|endoftext|>'",
      );
    }
    if (seen.has(token))
      fail(`special token ${JSON.stringify(token)} is listed twice`, 'list each once');
    seen.add(token);
    const allByteSymbols = [...token].every(isByteSymbol);
    if (allByteSymbols && (token.length === 1 || /[^\x21-\x7e]/.test(token))) {
      fail(
        `special token ${JSON.stringify(token)} is spelled in the byte-level alphabet and could clash with a byte or learned token`,
        "wrap it in markers like '<|…|>' or '<…>'",
      );
    }
  }
}

/** Train a GPT-2-style byte-level BPE model on `texts` (each string is one document). */
export function trainByteLevelBpe(texts: Iterable<string>, options: TrainBpeOptions): BpeModel {
  const specialTokens = [...(options.specialTokens ?? [])];
  const minFrequency = options.minFrequency ?? defaultMinFrequency;
  const maxMerges = options.maxMerges ?? Number.MAX_SAFE_INTEGER;
  checkSpecialTokens(specialTokens);
  const base = specialTokens.length + BYTE_TO_SYMBOL.length;
  checkCount('vocabSize', options.vocabSize, base, MAX_VOCAB_SIZE);
  checkCount('minFrequency', minFrequency, 1);
  checkCount('maxMerges', maxMerges, 0);

  const counts = countWords(texts, specialTokens);
  const tokens = [...specialTokens, ...BYTE_SYMBOLS_BY_CODE_POINT];
  const byteId = BYTE_TO_SYMBOL.map((s) => tokens.indexOf(s));
  const encoder = new TextEncoder();
  const words: number[][] = [];
  const frequencies: number[] = [];
  for (const [word, n] of counts) {
    words.push(Array.from(encoder.encode(word), (b) => byteId[b]!));
    frequencies.push(n);
  }
  const merges = learnMerges(tokens, words, frequencies, {
    vocabSize: options.vocabSize,
    minFrequency,
    maxMerges,
    progress: options.progress,
  });
  return {
    vocab: new Map(tokens.map((t, i) => [t, i])),
    merges,
    specialTokens,
  };
}
