// The iCBS-on-LM tests' small world: the tiny random GPT-2 and Llama of test/models/hf-forward
// (hidden 16, 2 blocks, vocab 50; 128–1024 weights per projection), token sequences sampled from
// the float64 reference model itself (so that at the dense weights the model is the data's own
// distribution and the empirical Fisher estimates the Hessian), and float64 per-sequence losses
// and central-difference gradients from that reference — nothing from src/ computes them.
import { HfCausalLmModel } from '../../../src/models/hf/causal-lm-model.js';
import { parseHfConfig } from '../../../src/models/hf/hf-config.js';
import type { DatasetSplit } from '../../../src/plugin-api/dataset.js';
import type { Dataset } from '../../../src/data/types.js';
import { Rng } from '../../../src/util/rng.js';
import {
  gpt2Json,
  gpt2Weights,
  llamaJson,
  llamaWeights,
  type RawConfig,
} from '../../models/hf-forward/checkpoints.js';
import { refGpt2, refLlama } from '../../models/hf-forward/reference.js';

export const vocab = 50;

/** An operator's [fanIn, units] weight view, by name (what RefHooks.weights takes). */
export type WeightViews = ReadonlyMap<string, ArrayLike<number>>;

export interface TinyLm {
  readonly name: 'GPT-2' | 'Llama';
  readonly json: RawConfig;
  readonly weights: Map<string, Float32Array>;
  /** How the checkpoint stores projections: 'same' [fanIn, units] or 'transposed' [units, fanIn]. */
  readonly layout: 'same' | 'transposed';
  /** Longest sequence the model takes. */
  readonly maxSeq: number;
  open(): HfCausalLmModel;
  /** Float64 logits [batch, seq, vocab] with these operator weights replaced. */
  logits(ids: number[][], views?: WeightViews): Float64Array;
}

export function tinyLms(): TinyLm[] {
  const g = gpt2Weights(11);
  const l = llamaWeights(12);
  return [
    {
      name: 'GPT-2',
      json: gpt2Json,
      weights: g,
      layout: 'same',
      maxSeq: 12,
      open: () => new HfCausalLmModel(parseHfConfig(gpt2Json), g),
      logits: (ids, views) => refGpt2(gpt2Json, g, ids, { weights: views ?? new Map() }).logits,
    },
    {
      name: 'Llama',
      json: llamaJson,
      weights: l,
      layout: 'transposed',
      maxSeq: 32,
      open: () => new HfCausalLmModel(parseHfConfig(llamaJson), l),
      logits: (ids, views) => refLlama(llamaJson, l, ids, { weights: views ?? new Map() }).logits,
    },
  ];
}

/** The dense [fanIn, units] view of an operator, read from the checkpoint (not from the model). */
export function denseView(lm: TinyLm, op: string, fanIn: number, units: number): Float64Array {
  const stored = lm.weights.get(`${op}.weight`);
  if (stored === undefined) throw new Error(`no checkpoint tensor for ${op}`);
  const out = new Float64Array(fanIn * units);
  for (let i = 0; i < fanIn; i++) {
    for (let o = 0; o < units; o++) {
      out[i * units + o] = stored[lm.layout === 'same' ? i * units + o : o * fanIn + i] as number;
    }
  }
  return out;
}

/** Mean next-token NLL of every sequence (float64): the causal-lm per-sample loss. */
export function sequenceLosses(logits: Float64Array, ids: number[][]): Float64Array {
  const seq = ids[0]?.length ?? 0;
  const out = new Float64Array(ids.length);
  ids.forEach((row, b) => {
    let nll = 0;
    for (let t = 0; t + 1 < seq; t++) {
      const at = (b * seq + t) * vocab;
      let max = -Infinity;
      for (let v = 0; v < vocab; v++) max = Math.max(max, logits[at + v] as number);
      let sum = 0;
      for (let v = 0; v < vocab; v++) sum += Math.exp((logits[at + v] as number) - max);
      nll += max + Math.log(sum) - (logits[at + (row[t + 1] as number)] as number);
    }
    out[b] = nll / (seq - 1);
  });
  return out;
}

export function mean(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] as number;
  return s / v.length;
}

/**
 * Per-sequence gradients by central differences of the float64 reference: G[s][e] =
 * ∂L_s/∂W_op[entries[e]] at the weights `views` (op must be among them).
 */
export function finiteDifferenceGradients(
  lm: TinyLm,
  ids: number[][],
  views: WeightViews,
  op: string,
  entries: readonly number[],
  h = 1e-5,
): number[][] {
  const base = views.get(op);
  if (base === undefined) throw new Error(`no view for ${op}`);
  const G = ids.map(() => new Array<number>(entries.length).fill(0));
  entries.forEach((j, e) => {
    const at = (sign: number): Float64Array => {
      const w = Float64Array.from(base);
      w[j] = (w[j] as number) + sign * h;
      return sequenceLosses(lm.logits(ids, new Map([...views, [op, w]])), ids);
    };
    const plus = at(1);
    const minus = at(-1);
    ids.forEach((_, s) => {
      (G[s] as number[])[e] = ((plus[s] as number) - (minus[s] as number)) / (2 * h);
    });
  });
  return G;
}

/**
 * `count` sequences of `seq` tokens drawn from the reference model at `views`: a uniform first
 * token, then each next token from the model's softmax (float64).
 */
export function sampleSequences(
  lm: TinyLm,
  count: number,
  seq: number,
  seed: number,
  views?: WeightViews,
): number[][] {
  const rng = new Rng(seed);
  const ids = Array.from({ length: count }, () => [rng.int(vocab)]);
  for (let t = 1; t < seq; t++) {
    const logits = lm.logits(ids, views);
    ids.forEach((row, s) => {
      const at = (s * t + t - 1) * vocab;
      let max = -Infinity;
      for (let v = 0; v < vocab; v++) max = Math.max(max, logits[at + v] as number);
      const p = Array.from({ length: vocab }, (_, v) => Math.exp((logits[at + v] as number) - max));
      let u = rng.float() * p.reduce((a, b) => a + b, 0);
      let v = 0;
      while (v < vocab - 1 && u > (p[v] as number)) u -= p[v++] as number;
      row.push(v);
    });
  }
  return ids;
}

/** Sequences as a dataset split (token ids as float32 x, as the text loader stores them). */
export function tokenSplit(name: string, ids: number[][]): DatasetSplit {
  const count = ids.length;
  return {
    name,
    count,
    sampleShape: [ids[0]?.length ?? 0],
    x: Float32Array.from(ids.flat()),
    y: new Int32Array(count),
    ids: Int32Array.from({ length: count }, (_, i) => i),
  };
}

export function tokenDataset(train: number[][], test: number[][]): Dataset {
  return {
    source: 'synthetic',
    numClasses: 0,
    splits: new Map([
      ['train', tokenSplit('train', train)],
      ['test', tokenSplit('test', test)],
    ]),
  };
}
