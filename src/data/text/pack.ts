// Packing tokenized documents into fixed-length training sequences: the documents of a split are
// concatenated in order — with the EOS token between consecutive (non-empty) documents when
// `separator` is on, none before the first or after the last — and the stream is cut into
// consecutive, non-overlapping windows of seqLength tokens. The incomplete tail window is dropped
// and reported (droppedTokens), so every sequence is full and no token is seen twice.
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { DatasetSplit } from '../../plugin-api/dataset.js';

export interface PackOptions {
  readonly seqLength: number;
  /** Put the EOS token between consecutive documents. */
  readonly separator: boolean;
  /** The EOS token id; required when `separator` is true. */
  readonly eosId?: number;
}

export interface PackedSplit {
  readonly name: string;
  /** Number of sequences. */
  readonly count: number;
  readonly seqLength: number;
  /** count × seqLength token ids, sequence after sequence. */
  readonly ids: Int32Array;
  /** Documents packed (empty ones included). */
  readonly documents: number;
  /** Tokens of the documents, separators not counted. */
  readonly tokens: number;
  /** Separator tokens inserted. */
  readonly separatorTokens: number;
  /** Tokens of the stream after the last full window (0 … seqLength − 1). */
  readonly droppedTokens: number;
}

/** float32 holds every integer below 2^24 exactly. */
export const MAX_FLOAT32_EXACT_ID = 2 ** 24;

function checkOptions(opts: PackOptions): void {
  if (!(Number.isInteger(opts.seqLength) && opts.seqLength > 0)) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `pack: seqLength must be a positive integer, got ${opts.seqLength}`,
      {
        hint: 'e.g. seqLength: 128',
      },
    );
  }
  if (opts.separator && opts.eosId === undefined) {
    throw new ScalpelError(
      ErrorCode.Data,
      'pack: separator is on but the tokenizer has no EOS token',
      {
        hint: 'give a tokenizer_config.json with eos_token, or set separator: false',
      },
    );
  }
}

function checkId(id: number, split: string, doc: number): void {
  if (!(Number.isInteger(id) && id >= 0 && id <= 0x7fffffff)) {
    throw new ScalpelError(
      ErrorCode.Data,
      `pack: document ${doc} of split '${split}' has the invalid token id ${id}`,
      {
        hint: 'token ids must be integers in [0, 2^31); check the tokenizer',
      },
    );
  }
}

export function packDocuments(
  name: string,
  docs: readonly ArrayLike<number>[],
  opts: PackOptions,
): PackedSplit {
  checkOptions(opts);
  const nonEmpty = docs.filter((d) => d.length > 0).length;
  const tokens = docs.reduce((n, d) => n + d.length, 0);
  const separatorTokens = opts.separator ? Math.max(0, nonEmpty - 1) : 0;
  const stream = tokens + separatorTokens;
  const count = Math.floor(stream / opts.seqLength);
  const kept = count * opts.seqLength;
  const ids = new Int32Array(kept);
  let at = 0;
  let first = true;
  for (let d = 0; d < docs.length && at < kept; d++) {
    const doc = docs[d] as ArrayLike<number>;
    if (doc.length === 0) continue;
    if (!first && opts.separator) ids[at++] = opts.eosId as number;
    first = false;
    for (let i = 0; i < doc.length && at < kept; i++) {
      const id = doc[i] as number;
      checkId(id, name, d);
      ids[at++] = id;
    }
  }
  return {
    name,
    count,
    seqLength: opts.seqLength,
    ids,
    documents: docs.length,
    tokens,
    separatorTokens,
    droppedTokens: stream - kept,
  };
}

/**
 * The packed sequences as a DatasetSplit: x = the token ids as float32 (exact below 2^24, which is
 * checked), sampleShape [seqLength], y = 0 (language modelling has no class labels), ids = the
 * sequence index.
 */
export function toDatasetSplit(packed: PackedSplit, name = packed.name): DatasetSplit {
  const x = new Float32Array(packed.ids.length);
  for (let i = 0; i < packed.ids.length; i++) {
    const id = packed.ids[i] as number;
    if (id < 0 || id >= MAX_FLOAT32_EXACT_ID) {
      throw new ScalpelError(
        ErrorCode.Data,
        `split '${name}': token id ${id} cannot be stored exactly as float32 (limit 2^24 = ${MAX_FLOAT32_EXACT_ID})`,
        {
          hint: 'use a tokenizer whose vocabulary is smaller than 16,777,216 tokens',
        },
      );
    }
    x[i] = id;
  }
  const ids = new Int32Array(packed.count);
  for (let i = 0; i < packed.count; i++) ids[i] = i;
  return {
    name,
    count: packed.count,
    sampleShape: [packed.seqLength],
    x,
    y: new Int32Array(packed.count),
    ids,
  };
}
