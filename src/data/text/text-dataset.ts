// From document splits to packed, tokenized splits with their counts: the pipeline load-dataset
// runs for text (corpus readers → splitDocuments → this).
import { textSplitStats, type TextSplitStats } from './corpus-stats.js';
import { packDocuments, type PackedSplit } from './pack.js';
import { TEXT_SPLIT_NAMES, type DocumentSplits } from './split.js';
import type { TextTokenizer } from './tokenize.js';

export interface PackTextOptions {
  readonly seqLength: number;
  /** EOS between documents (the tokenizer must have one). */
  readonly separator: boolean;
}

export interface PackedText {
  /** train, validation, test, in that order. */
  readonly splits: readonly PackedSplit[];
  readonly stats: readonly TextSplitStats[];
}

export function tokenizeAndPack(
  splits: DocumentSplits,
  tokenizer: TextTokenizer,
  opts: PackTextOptions,
): PackedText {
  const packed: PackedSplit[] = [];
  const stats: TextSplitStats[] = [];
  for (const name of TEXT_SPLIT_NAMES) {
    const docs = splits[name];
    const p = packDocuments(
      name,
      docs.map((d) => tokenizer.encode(d.text)),
      {
        seqLength: opts.seqLength,
        separator: opts.separator,
        ...(tokenizer.eosId !== undefined ? { eosId: tokenizer.eosId } : {}),
      },
    );
    packed.push(p);
    stats.push(textSplitStats(docs, p));
  }
  return { splits: packed, stats };
}
