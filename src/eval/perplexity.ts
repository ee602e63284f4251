// Perplexity and bits per byte of a causal LM on packed token sequences. Every position but the
// last predicts the next token of its sequence (the first token of each sequence is context
// only); the NLL of all predicted tokens is summed in float64. Where they overlap the numbers are
// CausalLmTask.evaluate's: its loss is meanNll, its perplexity and token count are these.
//
//   meanNll    = Σ −log p(x_t+1 | x_≤t) / tokens            (nats)
//   perplexity = exp(meanNll)
//   bitsPerByte = (Σ −log p / ln 2) / textBytes            (textBytes: UTF-8 bytes of the text)
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Samples } from '../plugin-api/dataset.js';
import type { PrunableModel } from '../plugin-api/model.js';
import { checkBatchSize, checkTokenIds, lmLimits, type LmLimits } from './lm-limits.js';
import { modelTargetLogProbs } from './token-log-probs.js';

export interface PerplexityOptions extends LmLimits {
  /** Sequences per forward pass. */
  readonly batchSize: number;
  /**
   * UTF-8 bytes of the text whose tokens are scored; gives bitsPerByte. With packed chunks the
   * first token of each chunk is not predicted, so pass the bytes of the predicted text when
   * known (else the bytes of the packed text, which understates bits per byte slightly).
   */
  readonly textBytes?: number;
}

export interface PerplexityResult {
  readonly sequences: number;
  readonly seqLength: number;
  /** Predicted tokens: sequences × (seqLength − 1). */
  readonly tokens: number;
  /** Tokens the model read: sequences × seqLength. */
  readonly inputTokens: number;
  /** Σ −log p over the predicted tokens, in nats (float64). */
  readonly totalNll: number;
  readonly meanNll: number;
  readonly perplexity: number;
  /** Present when textBytes was given. */
  readonly bitsPerByte?: number;
  readonly seconds: number;
  /** inputTokens / seconds of wall time. */
  readonly tokensPerSecond: number;
}

function checkShape(samples: Samples, maxLength: number | undefined): number {
  const dims = samples.sampleShape;
  const seq = dims[0] ?? 0;
  if (dims.length !== 1 || seq < 2) {
    throw new ScalpelError(
      ErrorCode.Data,
      `perplexity: samples must be token sequences [seqLength ≥ 2], got shape [${dims.join(', ')}]`,
      { hint: 'pack the tokens into sequences of a fixed length (packTokenSequences)' },
    );
  }
  if (maxLength !== undefined && seq > maxLength) {
    throw new ScalpelError(
      ErrorCode.Data,
      `perplexity: sequences of ${seq} tokens are longer than the model's ${maxLength} positions`,
      { hint: `pack the tokens into sequences of at most ${maxLength} tokens` },
    );
  }
  return seq;
}

export function evaluatePerplexity(
  model: PrunableModel,
  samples: Samples,
  opts: PerplexityOptions,
): PerplexityResult {
  checkBatchSize(opts.batchSize, 'evaluatePerplexity');
  if (opts.textBytes !== undefined && !(opts.textBytes > 0)) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `evaluatePerplexity: textBytes must be > 0, got ${opts.textBytes}`,
    );
  }
  const limits = lmLimits(model, opts);
  const seq = checkShape(samples, limits.maxLength);
  checkTokenIds(samples.x, limits.vocabSize, () => 'perplexity samples');
  const started = performance.now();
  let totalNll = 0;
  for (let start = 0; start < samples.count; start += opts.batchSize) {
    const rows = Math.min(opts.batchSize, samples.count - start);
    const ids = Int32Array.from(samples.x.subarray(start * seq, (start + rows) * seq));
    // Position b·seq + t predicts token t + 1 of row b.
    const positions = new Int32Array(rows * (seq - 1));
    const targets = new Int32Array(rows * (seq - 1));
    for (let b = 0, k = 0; b < rows; b++) {
      for (let t = 0; t + 1 < seq; t++, k++) {
        positions[k] = b * seq + t;
        targets[k] = ids[b * seq + t + 1] as number;
      }
    }
    const input = tf.tensor2d(ids, [rows, seq], 'int32');
    const { logProbs } = modelTargetLogProbs(model, input, positions, targets);
    input.dispose();
    for (const lp of logProbs) totalNll -= lp;
  }
  const seconds = (performance.now() - started) / 1000;
  const tokens = samples.count * (seq - 1);
  const inputTokens = samples.count * seq;
  const meanNll = tokens > 0 ? totalNll / tokens : NaN;
  return {
    sequences: samples.count,
    seqLength: seq,
    tokens,
    inputTokens,
    totalNll,
    meanNll,
    perplexity: Math.exp(meanNll),
    ...(opts.textBytes !== undefined ? { bitsPerByte: totalNll / Math.LN2 / opts.textBytes } : {}),
    seconds,
    tokensPerSecond: seconds > 0 ? inputTokens / seconds : 0,
  };
}
