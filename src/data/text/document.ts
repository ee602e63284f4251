// The unit every text corpus reader produces and the train/validation/test split assigns whole:
// one book, address, corpus file or line of a .jsonl file.

/** Where a document came from: one of the bundled corpora or the generic `text` source. */
export type TextSourceName = 'gutenberg' | 'sotu' | 'brown' | 'text';

export interface Document {
  /** Stable across runs and machines, prefixed by the source, e.g. 'sotu/1790-george-washington'. */
  readonly id: string;
  readonly source: TextSourceName;
  /** The document's text: UTF-8-decoded, '\n' line ends, source markup removed. */
  readonly text: string;
  /** Source-specific facts (year, president, category, file …), never used by the split. */
  readonly meta?: Readonly<Record<string, string | number>>;
}
