// The text corpora by `source:` name, for load-dataset to dispatch on.
import { readBrown } from './brown.js';
import type { Document, TextSourceName } from './document.js';
import { readGutenberg, type GutenbergOptions } from './gutenberg.js';
import { readSotu } from './sotu.js';
import { readTextSource, type TextSourceOptions } from './text-files.js';

export interface TextCorpusOptions {
  gutenberg: GutenbergOptions;
  sotu: Record<string, never>;
  brown: Record<string, never>;
  text: TextSourceOptions;
}

export type TextCorpusReader<K extends TextSourceName> = (
  opts: TextCorpusOptions[K],
) => Promise<Document[]>;

export const textCorpora: { readonly [K in TextSourceName]: TextCorpusReader<K> } = {
  gutenberg: readGutenberg,
  sotu: () => readSotu(),
  brown: () => readBrown(),
  text: readTextSource,
};
