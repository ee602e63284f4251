// Quality of the model with the current masks on a fixed validation subset (the first `samples`
// of a split), for the quality–time curve.
import type { PrunableModel } from '../plugin-api/model.js';
import type { DatasetSplit, Samples } from '../plugin-api/dataset.js';
import { sliceSamples } from '../data/batches.js';
import { evaluateModel } from '../parallel/evaluation.js';

export interface CurvePoint {
  step: number;
  elapsedMs: number;
  /** The task's metrics (classification: accuracy; causal-lm: perplexity, tokens) and loss. */
  [metric: string]: number;
  loss: number;
  /** Sum of the predicted ΔL of all steps so far. */
  predictedDeltaL: number;
}

export function validationSubset(split: DatasetSplit, samples: number): Samples {
  return sliceSamples(split, 0, Math.min(samples, split.count));
}

/**
 * Samples per evaluation forward, a ceiling: the task lowers it where a batch would not fit
 * (causal-lm: at most 2^24 logits per forward, i.e. 32 sequences of 128 tokens at a 4k vocabulary).
 */
const evaluationBatch = 500;

/**
 * The task's metrics (accuracy, perplexity, …) and loss of the model as it stands, on the
 * data-parallel worker threads when the process has any (bitwise the single-thread metrics).
 */
export async function evaluateNow(
  model: PrunableModel,
  subset: Samples,
): Promise<{ loss: number } & Record<string, number>> {
  const m = await evaluateModel(model, subset, { batchSize: evaluationBatch });
  return { ...m.values, loss: m.loss };
}

/** The headline of a curve point for the log: accuracy (classifiers), perplexity (LMs), loss. */
export function describeQuality(m: { loss: number } & Record<string, number>): string {
  const accuracy = m.accuracy;
  const perplexity = m.perplexity;
  const head =
    accuracy !== undefined
      ? `accuracy ${(100 * accuracy).toFixed(2)}%, `
      : perplexity !== undefined
        ? `perplexity ${perplexity.toFixed(3)}, `
        : '';
  return `${head}loss ${m.loss.toFixed(4)}`;
}
