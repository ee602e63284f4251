// Document-level train/validation/test split. The rule (also in docs/text-data.md):
//   1. Empty documents (whitespace only) are dropped and counted.
//   2. Exact duplicates are dropped: documents whose texts are equal after collapsing every run of
//      whitespace to one space and trimming (compared by SHA-256 of that), keeping the first in
//      input order (= source order); each dropped id is recorded with the id it duplicates.
//   3. Each remaining document gets u = (first 6 bytes of SHA-256(salt + '\n' + id), big-endian)
//      / 2^48, a number in [0, 1) that depends on nothing but its own id (salt '' by default):
//      u < validation → 'validation'; u < validation + test → 'test'; else 'train'.
//      Adding or removing a document therefore never moves another one.
//   4. Small corpora: when there are at least 3 documents and a split with a fraction > 0 came out
//      empty, the document whose u is nearest that split's interval (ties: the smaller id) is
//      moved into it from a split that keeps at least one, for validation, test, then train. Only
//      this fix-up can move a document when others are added (it is undone once the interval
//      receives a document of its own).
// Within a split, documents keep their input order. A document is never cut across splits.
import { createHash } from 'node:crypto';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { Document } from './document.js';

export const TEXT_SPLIT_NAMES = ['train', 'validation', 'test'] as const;
export type TextSplitName = (typeof TEXT_SPLIT_NAMES)[number];

/** 5% validation, 5% test: enough held-out text for a stable loss, most of it left to train. */
export const DEFAULT_SPLIT_FRACTIONS = { validation: 0.05, test: 0.05 } as const;

export interface SplitOptions {
  /** Fraction of documents for validation (default 0.05). */
  readonly validation?: number;
  /** Fraction of documents for test (default 0.05). */
  readonly test?: number;
  /** Mixed into the hash to draw a different (still deterministic) split. */
  readonly salt?: string;
}

export interface DuplicateDocument {
  readonly id: string;
  /** The id of the earlier document with the same (whitespace-normalised) text. */
  readonly duplicateOf: string;
}

export interface DocumentSplits {
  readonly train: readonly Document[];
  readonly validation: readonly Document[];
  readonly test: readonly Document[];
  readonly duplicates: readonly DuplicateDocument[];
  readonly emptyDropped: number;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The text documents are compared by: whitespace runs collapsed to one space, trimmed. */
export function normalizeForDedup(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** u in [0, 1) of step 3 of the rule. */
export function documentHashFraction(id: string, salt = ''): number {
  return sha256(`${salt}\n${id}`).readUIntBE(0, 6) / 2 ** 48;
}

/** Steps 1–2: drop empty documents and exact duplicates, keeping the first. */
export function dedupeDocuments(docs: readonly Document[]): {
  documents: Document[];
  duplicates: DuplicateDocument[];
  emptyDropped: number;
} {
  const firstByHash = new Map<string, string>();
  const ids = new Set<string>();
  const documents: Document[] = [];
  const duplicates: DuplicateDocument[] = [];
  let emptyDropped = 0;
  for (const doc of docs) {
    if (ids.has(doc.id)) {
      throw new ScalpelError(ErrorCode.Data, `two documents have the id '${doc.id}'`, {
        hint: 'document ids must be unique: do not list the same corpus or file twice',
      });
    }
    ids.add(doc.id);
    const normalized = normalizeForDedup(doc.text);
    if (normalized === '') {
      emptyDropped++;
      continue;
    }
    const hash = sha256(normalized).toString('hex');
    const first = firstByHash.get(hash);
    if (first !== undefined) {
      duplicates.push({ id: doc.id, duplicateOf: first });
      continue;
    }
    firstByHash.set(hash, doc.id);
    documents.push(doc);
  }
  return { documents, duplicates, emptyDropped };
}

function checkFraction(name: string, f: number): void {
  if (!(Number.isFinite(f) && f >= 0 && f < 1)) {
    throw new ScalpelError(ErrorCode.RecipeSchema, `split: ${name} must be in [0, 1), got ${f}`, {
      hint: 'fractions of documents, e.g. validation: 0.05, test: 0.05',
    });
  }
}

/** Distance from u to [lo, hi) (0 inside). */
const distanceTo = (u: number, [lo, hi]: readonly [number, number]): number =>
  u < lo ? lo - u : u >= hi ? u - hi : 0;

export function splitDocuments(docs: readonly Document[], opts: SplitOptions = {}): DocumentSplits {
  const validation = opts.validation ?? DEFAULT_SPLIT_FRACTIONS.validation;
  const test = opts.test ?? DEFAULT_SPLIT_FRACTIONS.test;
  checkFraction('validation', validation);
  checkFraction('test', test);
  if (validation + test >= 1) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `split: validation + test = ${validation + test} leaves nothing to train on`,
      {
        hint: 'validation + test must be below 1',
      },
    );
  }
  const { documents, duplicates, emptyDropped } = dedupeDocuments(docs);
  const bands: Record<TextSplitName, readonly [number, number]> = {
    validation: [0, validation],
    test: [validation, validation + test],
    train: [validation + test, 1],
  };
  const fractions: Record<TextSplitName, number> = {
    validation,
    test,
    train: 1 - validation - test,
  };
  const u = documents.map((d) => documentHashFraction(d.id, opts.salt));
  const assigned: TextSplitName[] = u.map((x) =>
    x < validation ? 'validation' : x < validation + test ? 'test' : 'train',
  );

  if (documents.length >= 3) {
    const count: Record<TextSplitName, number> = { train: 0, validation: 0, test: 0 };
    for (const a of assigned) count[a]++;
    for (const name of ['validation', 'test', 'train'] as const) {
      if (fractions[name] === 0 || count[name] > 0) continue;
      const band = bands[name];
      let best = -1;
      for (let i = 0; i < documents.length; i++) {
        if (count[assigned[i] as TextSplitName] < 2) continue;
        if (best >= 0) {
          const d = distanceTo(u[i] as number, band);
          const bestD = distanceTo(u[best] as number, band);
          const tie =
            d === bestD && (documents[i] as Document).id < (documents[best] as Document).id;
          if (!(d < bestD || tie)) continue;
        }
        best = i;
      }
      if (best < 0) continue;
      count[assigned[best] as TextSplitName]--;
      count[name]++;
      assigned[best] = name;
    }
  }
  const pick = (name: TextSplitName): Document[] =>
    documents.filter((_, i) => assigned[i] === name);
  return {
    train: pick('train'),
    validation: pick('validation'),
    test: pick('test'),
    duplicates,
    emptyDropped,
  };
}
