// load-dataset for `source: text`: read the corpora and/or the user's files, keep the first
// maxDocuments, split by document (split.ts), tokenize with a tokenizer.json, pack each split into
// sequences of seqLength tokens (pack.ts), and describe all of it (provenance) so the exact
// train/validation/test data can be rebuilt. numClasses of the Dataset is the vocabulary size.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { Progress } from '../../plugin-api/stage.js';
import { sha256File } from '../../util/file-hash.js';
import type { Dataset, DatasetSplit } from '../types.js';
import { textCorpora } from './corpora.js';
import { textSplitStats, utf8Bytes, type TextSplitStats } from './corpus-stats.js';
import type { Document } from './document.js';
import { packDocuments, toDatasetSplit } from './pack.js';
import {
  DEFAULT_SPLIT_FRACTIONS,
  splitDocuments,
  TEXT_SPLIT_NAMES,
  type DocumentSplits,
  type DuplicateDocument,
} from './split.js';
import type { TextDatasetOptions } from './text-options.js';
import { resolveTokenizerFiles } from './tokenizer-files.js';
import { loadTokenizer, type TextTokenizer } from './tokenize.js';

export interface TextDatasetEnv {
  resolvePath(p: string): string;
  /** The tokenizer.json (or its directory) to use, absolute: `tokenizer:` resolved, or an input's. */
  readonly tokenizerPath: string;
  progress(label: string, total: number): Progress;
  readonly signal?: AbortSignal;
}

/** The split rule, spelled out in the provenance (docs/text-data.md, "The split"). */
export const TEXT_SPLIT_RULE =
  'drop empty and whitespace-normalised duplicate documents (first kept); u = first 6 bytes of sha256(salt + "\\n" + id) / 2^48; u < validation → validation, u < validation + test → test, else train; an empty split with a fraction > 0 takes the nearest document (≥ 3 documents)';

export type TextSplitSummary = Omit<TextSplitStats, 'name'>;

/** Everything needed to rebuild the data: stored in the artifact's meta.json as `provenance`. */
export interface TextProvenance extends Record<string, unknown> {
  corpora: string[];
  path: string | null;
  tokenizer: {
    path: string;
    sha256: string;
    configSha256: string | null;
    vocabSize: number;
    eosId: number | null;
    bosId: number | null;
  };
  seqLength: number;
  separator: boolean;
  split: { rule: string; validation: number; test: number; salt: string };
  documents: {
    read: number;
    used: number;
    emptyDropped: number;
    duplicates: DuplicateDocument[];
  };
  splits: Record<string, TextSplitSummary & { documentIds: string[] }>;
}

export interface LoadedTextDataset {
  readonly dataset: Dataset;
  readonly provenance: TextProvenance;
  readonly stats: readonly TextSplitStats[];
}

function usage(message: string, hint: string): ScalpelError {
  return new ScalpelError(ErrorCode.RecipeSchema, `load-dataset (source: text): ${message}`, {
    hint,
  });
}

/** The checks the schema makes, repeated for callers that build options in code. */
function checkOptions(opts: TextDatasetOptions): void {
  const corpora = opts.corpora ?? [];
  if (corpora.length === 0 && opts.path === undefined)
    throw usage('no text to read', 'give `corpora: [sotu, brown, gutenberg]` and/or `path:`');
  if (!(Number.isInteger(opts.seqLength) && opts.seqLength >= 2))
    throw usage(
      `seqLength must be an integer ≥ 2, got ${opts.seqLength}`,
      'a causal language model predicts token t+1 from tokens ≤ t: e.g. seqLength: 128',
    );
  if (opts.partChars !== undefined && !corpora.includes('gutenberg'))
    throw usage('`partChars` cuts gutenberg books, but gutenberg is not in `corpora`', 'remove it');
  if (opts.path === undefined && (opts.field ?? opts.documentSeparator) !== undefined)
    throw usage('`field` and `documentSeparator` are for the files in `path`', 'give `path:`');
}

/** The options that choose the documents (shared with the train-tokenizer stage). */
export type TextDocumentOptions = Pick<
  TextDatasetOptions,
  'corpora' | 'path' | 'field' | 'documentSeparator' | 'partChars' | 'maxDocuments' | 'split'
>;

/** The document-level split of these options (the rule of split.ts, with the defaults filled). */
export function splitFractions(opts: TextDocumentOptions): {
  validation: number;
  test: number;
  salt: string;
} {
  return {
    validation: opts.split?.validation ?? DEFAULT_SPLIT_FRACTIONS.validation,
    test: opts.split?.test ?? DEFAULT_SPLIT_FRACTIONS.test,
    salt: opts.split?.salt ?? '',
  };
}

/** The documents of every corpus, then of `path`, in that order; the first maxDocuments kept. */
export async function readTextDocuments(
  opts: TextDocumentOptions,
  resolvePath: (p: string) => string,
): Promise<{ documents: Document[]; read: number }> {
  const docs: Document[] = [];
  for (const name of opts.corpora ?? []) {
    if (name === 'gutenberg')
      docs.push(
        ...(await textCorpora.gutenberg(
          opts.partChars !== undefined ? { partChars: opts.partChars } : {},
        )),
      );
    else docs.push(...(await textCorpora[name]({})));
  }
  if (opts.path !== undefined) {
    docs.push(
      ...(await textCorpora.text({
        path: resolvePath(opts.path),
        ...(opts.field !== undefined ? { field: opts.field } : {}),
        ...(opts.documentSeparator !== undefined ? { separator: opts.documentSeparator } : {}),
      })),
    );
  }
  const used = opts.maxDocuments !== undefined ? docs.slice(0, opts.maxDocuments) : docs;
  return { documents: used, read: docs.length };
}

/** Tokenize every split (yielding between documents, so progress shows and Ctrl-C works) and pack it. */
async function tokenizeSplits(
  splits: DocumentSplits,
  tokenizer: TextTokenizer,
  opts: TextDatasetOptions,
  env: TextDatasetEnv,
): Promise<{ splits: DatasetSplit[]; stats: TextSplitStats[] }> {
  const all = TEXT_SPLIT_NAMES.flatMap((n) => splits[n]);
  const progress = env.progress('tokenizing (bytes)', utf8Bytes(all));
  const out: DatasetSplit[] = [];
  const stats: TextSplitStats[] = [];
  try {
    for (const name of TEXT_SPLIT_NAMES) {
      const docs = splits[name];
      const tokens: number[][] = [];
      for (const doc of docs) {
        env.signal?.throwIfAborted();
        tokens.push(tokenizer.encode(doc.text));
        progress.tick(Buffer.byteLength(doc.text, 'utf8'), { split: name });
        await yieldToEventLoop();
      }
      const packed = packDocuments(name, tokens, {
        seqLength: opts.seqLength,
        separator: opts.separator,
        ...(tokenizer.eosId !== undefined ? { eosId: tokenizer.eosId } : {}),
      });
      out.push(toDatasetSplit(packed));
      stats.push(textSplitStats(docs, packed));
    }
  } finally {
    progress.done();
  }
  return { splits: out, stats };
}

/** The Dataset's `source`: the corpora and the user's path, e.g. 'text:sotu+brown+notes.txt'. */
export function textDatasetSourceName(opts: TextDatasetOptions): string {
  return `text:${[...(opts.corpora ?? []), ...(opts.path !== undefined ? [opts.path] : [])].join('+')}`;
}

export async function loadTextDataset(
  opts: TextDatasetOptions,
  env: TextDatasetEnv,
): Promise<LoadedTextDataset> {
  checkOptions(opts);
  const files = resolveTokenizerFiles(env.tokenizerPath);
  const tokenizer = await loadTokenizer(files.tokenizer);
  const { documents, read } = await readTextDocuments(opts, (p) => env.resolvePath(p));
  const fractions = splitFractions(opts);
  const docSplits = splitDocuments(documents, fractions);
  const { splits, stats } = await tokenizeSplits(docSplits, tokenizer, opts, env);

  const summaries: TextProvenance['splits'] = {};
  for (const { name, ...s } of stats)
    summaries[name] = {
      ...s,
      documentIds: docSplits[name as (typeof TEXT_SPLIT_NAMES)[number]].map((d) => d.id),
    };
  const provenance: TextProvenance = {
    corpora: [...(opts.corpora ?? [])],
    path: opts.path ?? null,
    tokenizer: {
      path: opts.tokenizer ?? 'the train-tokenizer input',
      sha256: await sha256File(files.tokenizer),
      configSha256: files.config !== undefined ? await sha256File(files.config) : null,
      vocabSize: tokenizer.vocabSize,
      eosId: tokenizer.eosId ?? null,
      bosId: tokenizer.bosId ?? null,
    },
    seqLength: opts.seqLength,
    separator: opts.separator,
    split: { rule: TEXT_SPLIT_RULE, ...fractions },
    documents: {
      read,
      used: documents.length,
      emptyDropped: docSplits.emptyDropped,
      duplicates: [...docSplits.duplicates],
    },
    splits: summaries,
  };
  return {
    dataset: {
      source: textDatasetSourceName(opts),
      numClasses: tokenizer.vocabSize,
      splits: new Map(splits.map((s) => [s.name, s])),
    },
    provenance,
    stats,
  };
}
