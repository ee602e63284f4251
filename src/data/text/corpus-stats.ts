// Per-split counts of a packed text corpus, for reports and for bits per byte later:
// bits/byte = (mean loss per token in nats / ln 2) × tokens / bytes, where tokens and bytes are
// those of the split's documents (the ratio bytes/token of the split stands in for the packed
// windows, which cover all of it but the dropped tail, separators aside).
import type { Document } from './document.js';
import type { PackedSplit } from './pack.js';

export interface TextSplitStats {
  readonly name: string;
  readonly documents: number;
  /** Tokens of the documents (separators not counted). */
  readonly tokens: number;
  readonly separatorTokens: number;
  readonly sequences: number;
  readonly seqLength: number;
  readonly droppedTokens: number;
  /** UTF-8 bytes of the documents' texts. */
  readonly bytes: number;
}

export function utf8Bytes(docs: readonly Document[]): number {
  return docs.reduce((n, d) => n + Buffer.byteLength(d.text, 'utf8'), 0);
}

export function textSplitStats(
  documents: readonly Document[],
  packed: PackedSplit,
): TextSplitStats {
  return {
    name: packed.name,
    documents: documents.length,
    tokens: packed.tokens,
    separatorTokens: packed.separatorTokens,
    sequences: packed.count,
    seqLength: packed.seqLength,
    droppedTokens: packed.droppedTokens,
    bytes: utf8Bytes(documents),
  };
}
