// Zero-shot multiple-choice scoring by log-likelihood, as lm-evaluation-harness defines it. Each
// choice scores LL = Σ log p(choice tokens | context tokens) (choice tokens only);
//   acc      = [argmax_i LL_i == label]
//   acc_norm = [argmax_i LL_i / len_i == label]      len_i: the choice's length in UTF-8 bytes
//   greedy   = [every token of the label's choice is the arg-max token at its position]
// (greedy is the harness's LAMBADA accuracy). Ties go to the first choice, like numpy's argmax.
// The pairs are run in right-padded batches, longest first; causal attention keeps real
// positions independent of the padding after them, and only real positions' logits are read.
import * as tf from '@tensorflow/tfjs-core';
import type { PrunableModel } from '../plugin-api/model.js';
import { meanAndStderr } from './accuracy-stats.js';
import { buildChoiceRequests, type ChoiceRequest } from './choice-requests.js';
import { checkBatchSize, lmLimits, type LmLimits } from './lm-limits.js';
import type { Encode, MultipleChoiceExample } from './multiple-choice-types.js';
import { textLength, type LengthUnit } from './text-length.js';
import { modelTargetLogProbs } from './token-log-probs.js';

export interface MultipleChoiceOptions extends LmLimits {
  readonly encode: Encode;
  /** (context, choice) pairs per forward pass. */
  readonly batchSize: number;
  /** Unit of len_i in acc_norm: 'bytes' (UTF-8, default) or 'characters' (code points). */
  readonly lengthUnit?: LengthUnit;
  /** Context of examples whose context encodes to nothing (the harness uses end-of-text). */
  readonly emptyContextToken?: number;
  /** Id written into padded positions (never read); default 0. */
  readonly padToken?: number;
}

export interface MultipleChoiceTask {
  readonly name: string;
  readonly examples: readonly MultipleChoiceExample[];
}

export interface ExampleScore {
  readonly id?: string;
  readonly label: number;
  /** LL_i of every choice, in nats (summed in float64). */
  readonly logLikelihoods: readonly number[];
  /** len_i of every choice in the chosen unit. */
  readonly lengths: readonly number[];
  /** Whether each choice is the model's greedy continuation. */
  readonly greedy: readonly boolean[];
  readonly prediction: number;
  readonly predictionNorm: number;
}

export interface MultipleChoiceResult {
  readonly task: string;
  readonly count: number;
  /** (context, choice) pairs scored. */
  readonly pairs: number;
  /** Pairs whose context was cut from the left to fit the model. */
  readonly truncated: number;
  readonly acc: number;
  readonly accStderr: number;
  readonly accNorm: number;
  readonly accNormStderr: number;
  readonly greedyAcc: number;
  readonly greedyAccStderr: number;
  /** Real (unpadded) tokens the model read. */
  readonly tokens: number;
  readonly seconds: number;
  readonly tokensPerSecond: number;
  readonly examples: readonly ExampleScore[];
}

/** Index of the first largest value. */
function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++)
    if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

interface PairScore {
  logLikelihood: number;
  greedy: boolean;
}

/** Scores of `requests[order[..]]` run as one right-padded batch. */
function scoreBatch(
  model: PrunableModel,
  requests: readonly ChoiceRequest[],
  batch: readonly number[],
  padToken: number,
  out: PairScore[],
): void {
  const width = Math.max(...batch.map((r) => (requests[r] as ChoiceRequest).input.length));
  const ids = new Int32Array(batch.length * width).fill(padToken);
  let n = 0;
  batch.forEach((r, row) => {
    const q = requests[r] as ChoiceRequest;
    ids.set(q.input, row * width);
    n += q.continuation.length;
  });
  const positions = new Int32Array(n);
  const targets = new Int32Array(n);
  let k = 0;
  batch.forEach((r, row) => {
    const q = requests[r] as ChoiceRequest;
    const first = q.input.length - q.continuation.length;
    for (let j = 0; j < q.continuation.length; j++, k++) {
      positions[k] = row * width + first + j;
      targets[k] = q.continuation[j] as number;
    }
  });
  const input = tf.tensor2d(ids, [batch.length, width], 'int32');
  const { logProbs, greedy } = modelTargetLogProbs(model, input, positions, targets, true);
  input.dispose();
  k = 0;
  for (const r of batch) {
    const q = requests[r] as ChoiceRequest;
    let ll = 0;
    let all = true;
    for (let j = 0; j < q.continuation.length; j++, k++) {
      ll += logProbs[k] as number;
      all &&= greedy?.[k] === 1;
    }
    out[r] = { logLikelihood: ll, greedy: all };
  }
}

export function evaluateMultipleChoice(
  model: PrunableModel,
  task: MultipleChoiceTask,
  opts: MultipleChoiceOptions,
): MultipleChoiceResult {
  checkBatchSize(opts.batchSize, 'evaluateMultipleChoice');
  const limits = lmLimits(model, opts);
  const requests = buildChoiceRequests(task.examples, opts.encode, limits, opts.emptyContextToken);
  // Timed from here: tokens/s measures the model, not the tokenizer.
  const started = performance.now();
  // Longest first (ties in task order) so each batch pads little and the order is deterministic.
  const order = requests
    .map((_, i) => i)
    .sort(
      (a, b) =>
        (requests[b] as ChoiceRequest).input.length - (requests[a] as ChoiceRequest).input.length ||
        a - b,
    );
  const scores: PairScore[] = new Array<PairScore>(requests.length);
  for (let s = 0; s < order.length; s += opts.batchSize)
    scoreBatch(model, requests, order.slice(s, s + opts.batchSize), opts.padToken ?? 0, scores);
  const seconds = (performance.now() - started) / 1000;

  const unit = opts.lengthUnit ?? 'bytes';
  const examples: ExampleScore[] = [];
  let r = 0;
  for (const ex of task.examples) {
    const picked = scores.slice(r, r + ex.choices.length);
    r += ex.choices.length;
    const lls = picked.map((p) => p.logLikelihood);
    const lengths = ex.choices.map((c) => textLength(c, unit));
    examples.push({
      ...(ex.id !== undefined ? { id: ex.id } : {}),
      label: ex.label,
      logLikelihoods: lls,
      lengths,
      greedy: picked.map((p) => p.greedy),
      prediction: argmax(lls),
      predictionNorm: argmax(lls.map((ll, i) => ll / (lengths[i] as number))),
    });
  }
  const acc = meanAndStderr(examples.map((e) => (e.prediction === e.label ? 1 : 0)));
  const accNorm = meanAndStderr(examples.map((e) => (e.predictionNorm === e.label ? 1 : 0)));
  const greedy = meanAndStderr(examples.map((e) => (e.greedy[e.label] === true ? 1 : 0)));
  const tokens = requests.reduce((a, q) => a + q.input.length, 0);
  return {
    task: task.name,
    count: examples.length,
    pairs: requests.length,
    truncated: requests.filter((q) => q.truncated).length,
    acc: acc.mean,
    accStderr: acc.stderr,
    accNorm: accNorm.mean,
    accNormStderr: accNorm.stderr,
    greedyAcc: greedy.mean,
    greedyAccStderr: greedy.stderr,
    tokens,
    seconds,
    tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
    examples,
  };
}
