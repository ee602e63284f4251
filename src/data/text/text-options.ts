// The `with:` of a load-dataset stage with `source: text`, after schema validation
// (schemas/stages/load-dataset.schema.json, the `then` branch of `source: text`). Image options
// are rejected there; the image defaults the schema fills in at the top level (flatten, shuffle …)
// are still present at run time and ignored.
import type { BundledCorpusName } from './corpora.js';

// A type alias (not an interface) so it fits StageType<Record<string, unknown>>.
export type TextDatasetOptions = {
  source: 'text';
  /** Bundled corpora, in order of preference (the first copy of a duplicate text is kept). */
  corpora?: BundledCorpusName[];
  /** The user's own text: a .txt file, a directory of .txt files or a .jsonl file. */
  path?: string;
  /** .jsonl: the field holding each document's text (default 'text'). */
  field?: string;
  /** .txt: cut files into documents at every occurrence of this string. */
  documentSeparator?: string;
  /**
   * A tokenizer.json, or a directory holding one (and optionally tokenizer_config.json). Absent:
   * the tokenizer artifact of a train-tokenizer stage in `needs` (resolved by the stage).
   */
  tokenizer?: string;
  seqLength: number;
  /** EOS token between consecutive documents (the schema's default: true). */
  separator: boolean;
  split?: { validation?: number; test?: number; salt?: string };
  /** gutenberg: cut books into parts of at least this many characters. */
  partChars?: number;
  /** Keep only the first N documents (in corpus order, before dedupe and split). */
  maxDocuments?: number;
};
