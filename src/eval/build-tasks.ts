// Two multiple-choice tasks built from HELD-OUT documents (the caller passes its test split; the
// builders see nothing else, so no example can come from training text). Both are deterministic
// given the seed: each document draws from its own generator forked by its id, and the optional
// subset is drawn from a separate fork. Construction is described in docs/lm-evaluation.md.
//  - LAMBADA-style: a passage of a few sentences whose last word also occurs earlier in it;
//    context = the passage up to that word, choices = the word and distractors from the same
//    passage's other words of similar length (so the choice needs the context).
//  - next sentence: context = consecutive sentences of a document; choices = the sentence that
//    follows and sentences of OTHER documents.
import { ErrorCode, ScalpelError } from '../errors.js';
import { Rng } from '../util/rng.js';
import type { MultipleChoiceExample } from './multiple-choice-types.js';
import { splitSentences } from './sentences.js';

export interface TextDocument {
  readonly id: string;
  readonly text: string;
}

export interface BuiltExample extends MultipleChoiceExample {
  readonly id: string;
  /** The document the context (and the correct choice) comes from. */
  readonly document: string;
  /** The document each choice was taken from. */
  readonly choiceDocuments: readonly string[];
}

export interface LambadaStyleOptions {
  readonly seed: number;
  /** Sentences per passage, drawn uniformly in [minSentences, maxSentences] (default 3–6). */
  readonly minSentences?: number;
  readonly maxSentences?: number;
  /** Choices per example, the true word included (default 4). */
  readonly numChoices?: number;
  /** Letters a target or distractor word needs at least (default 3). */
  readonly minLetters?: number;
  /** Keep at most this many examples (a seeded subset, in build order). */
  readonly maxExamples?: number;
}

export interface NextSentenceOptions {
  readonly seed: number;
  /** Sentences in the context (default 3). */
  readonly contextSentences?: number;
  /** Choices per example, the true sentence included (default 4). */
  readonly numChoices?: number;
  /** Words a choice sentence needs at least (default 4). */
  readonly minWords?: number;
  /** Words a choice sentence may have at most (default 40), so choices fit small models' windows. */
  readonly maxWords?: number;
  readonly maxExamples?: number;
}

const letters = (w: string): number => [...w].length;
const isWord = (w: string, min: number): boolean => /^\p{L}+$/u.test(w) && letters(w) >= min;
/** A space-separated token without the punctuation around it. */
const bare = (token: string): string => token.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');

function checkDocuments(docs: readonly TextDocument[], task: string): void {
  const seen = new Set<string>();
  for (const d of docs) {
    if (seen.has(d.id)) {
      throw new ScalpelError(ErrorCode.Data, `${task}: two documents have the id '${d.id}'`, {
        hint: 'document ids must be unique: examples name the document they come from',
      });
    }
    seen.add(d.id);
  }
}

function noExamples(task: string, docs: number): ScalpelError {
  return new ScalpelError(
    ErrorCode.Data,
    `${task}: no example could be built from the ${docs} documents given`,
    {
      hint: 'pass more (or longer) held-out documents; see docs/lm-evaluation.md for what a passage needs',
    },
  );
}

/** `examples` or a seeded subset of at most `max` of them, in their order. */
function subset<T>(examples: T[], max: number | undefined, seed: number, label: string): T[] {
  if (max === undefined || examples.length <= max) return examples;
  const perm = new Rng(seed).fork(`${label}:subset`).permutation(examples.length);
  const keep = new Set(perm.subarray(0, Math.max(0, max)));
  return examples.filter((_, i) => keep.has(i));
}

/** `truth` inserted at a uniformly drawn position among `others`; returns choices and label. */
function placeTruth<T>(rng: Rng, truth: T, others: readonly T[]): { items: T[]; label: number } {
  const label = rng.int(others.length + 1);
  return { items: [...others.slice(0, label), truth, ...others.slice(label)], label };
}

/** Up to `k` distractor words of the context near the target's length, or undefined. */
function distractorWords(
  rng: Rng,
  context: string,
  target: string,
  k: number,
  minLetters: number,
): string[] | undefined {
  const seen = new Set([target.toLowerCase()]);
  const words: string[] = [];
  for (const token of context.split(' ')) {
    const w = bare(token);
    if (!isWord(w, minLetters) || seen.has(w.toLowerCase())) continue;
    seen.add(w.toLowerCase());
    words.push(w);
  }
  const n = letters(target);
  for (const tolerance of [1, 2, 3, Infinity]) {
    const near = words.filter((w) => Math.abs(letters(w) - n) <= tolerance);
    if (near.length >= k) return rng.shuffle(near).slice(0, k);
  }
  return undefined;
}

/** The passage as (context, last word) when it qualifies as a LAMBADA-style example. */
function lastWordSplit(
  passage: string,
  minLetters: number,
): { context: string; word: string } | undefined {
  const space = passage.lastIndexOf(' ');
  if (space <= 0) return undefined;
  const word = passage.slice(space + 1).replace(/[^\p{L}]+$/u, '');
  if (!isWord(word, minLetters)) return undefined;
  const context = passage.slice(0, space);
  const earlier = (context.match(/\p{L}+/gu) ?? []).some(
    (w) => w.toLowerCase() === word.toLowerCase(),
  );
  return earlier ? { context, word } : undefined;
}

export function buildLambadaStyleTask(
  docs: readonly TextDocument[],
  opts: LambadaStyleOptions,
): BuiltExample[] {
  const task = 'LAMBADA-style task';
  checkDocuments(docs, task);
  const minS = opts.minSentences ?? 3;
  const maxS = Math.max(minS, opts.maxSentences ?? 6);
  const k = (opts.numChoices ?? 4) - 1;
  const minLetters = opts.minLetters ?? 3;
  const root = new Rng(opts.seed).fork('lambada-style');
  const out: BuiltExample[] = [];
  for (const doc of docs) {
    const rng = root.fork(`document:${doc.id}`);
    const sentences = splitSentences(doc.text);
    for (let i = 0; i + minS <= sentences.length;) {
      const n = Math.min(minS + rng.int(maxS - minS + 1), sentences.length - i);
      const split = lastWordSplit(sentences.slice(i, i + n).join(' '), minLetters);
      const others = split && distractorWords(rng, split.context, split.word, k, minLetters);
      if (split === undefined || others === undefined) {
        i += 1;
        continue;
      }
      const { items, label } = placeTruth(rng, split.word, others);
      out.push({
        id: `${doc.id}#${i}`,
        document: doc.id,
        context: split.context,
        choices: items.map((w) => ' ' + w),
        label,
        choiceDocuments: items.map(() => doc.id),
      });
      i += n;
    }
  }
  if (out.length === 0) throw noExamples(task, docs.length);
  return subset(out, opts.maxExamples, opts.seed, 'lambada-style');
}

interface PoolSentence {
  readonly doc: number;
  readonly text: string;
}

/** `k` distinct sentences of other documents, none also a sentence of document `d`. */
function distractorSentences(
  rng: Rng,
  pool: readonly PoolSentence[],
  d: number,
  own: ReadonlySet<string>,
  k: number,
): PoolSentence[] | undefined {
  const chosen = new Map<string, PoolSentence>();
  const fits = (p: PoolSentence): boolean => p.doc !== d && !own.has(p.text) && !chosen.has(p.text);
  // Rejection sampling is cheap while most of the pool fits; the filtered draw is the fallback.
  for (let attempt = 0; attempt < 32 * k && chosen.size < k && pool.length > 0; attempt++) {
    const p = pool[rng.int(pool.length)] as PoolSentence;
    if (fits(p)) chosen.set(p.text, p);
  }
  if (chosen.size < k) {
    const rest = rng.shuffle(pool.filter(fits));
    for (const p of rest) if (chosen.size < k && fits(p)) chosen.set(p.text, p);
  }
  return chosen.size === k ? [...chosen.values()] : undefined;
}

export function buildNextSentenceTask(
  docs: readonly TextDocument[],
  opts: NextSentenceOptions,
): BuiltExample[] {
  const task = 'next-sentence task';
  checkDocuments(docs, task);
  if (docs.length < 2) {
    throw new ScalpelError(
      ErrorCode.Data,
      `${task}: needs at least 2 documents (distractors come from other documents), got ${docs.length}`,
      {
        hint: 'pass the whole held-out split, not a single document',
      },
    );
  }
  const c = opts.contextSentences ?? 3;
  const k = (opts.numChoices ?? 4) - 1;
  const minWords = opts.minWords ?? 4;
  const maxWords = opts.maxWords ?? 40;
  const long = (s: string): boolean => {
    const words = s.split(' ').length;
    return words >= minWords && words <= maxWords;
  };
  const sentences = docs.map((d) => splitSentences(d.text));
  const pool: PoolSentence[] = sentences.flatMap((ss, doc) =>
    ss.filter(long).map((text) => ({ doc, text })),
  );
  const root = new Rng(opts.seed).fork('next-sentence');
  const out: BuiltExample[] = [];
  docs.forEach((doc, d) => {
    const rng = root.fork(`document:${doc.id}`);
    const ss = sentences[d] as string[];
    const own = new Set(ss);
    for (let i = 0; i + c < ss.length;) {
      const next = ss[i + c] as string;
      const others = long(next) ? distractorSentences(rng, pool, d, own, k) : undefined;
      if (others === undefined) {
        i += 1;
        continue;
      }
      const truth: PoolSentence = { doc: d, text: next };
      const { items, label } = placeTruth(rng, truth, others);
      out.push({
        id: `${doc.id}#${i}`,
        document: doc.id,
        context: ss.slice(i, i + c).join(' '),
        choices: items.map((p) => ' ' + p.text),
        label,
        choiceDocuments: items.map((p) => (docs[p.doc] as TextDocument).id),
      });
      i += c + 1;
    }
  });
  if (out.length === 0) throw noExamples(task, docs.length);
  return subset(out, opts.maxExamples, opts.seed, 'next-sentence');
}
