// The unigram baseline a language model must beat: token frequencies counted on the training
// split with add-one (Laplace) smoothing over the vocabulary, scored on exactly the tokens the
// model predicts (positions 1 … L−1 of every sequence), accumulated in float64.
import type { Samples } from '../plugin-api/dataset.js';

export interface UnigramResult {
  readonly perplexity: number;
  readonly meanNll: number;
  readonly tokens: number;
}

function seqLength(s: Samples): number {
  return s.sampleShape[0] ?? 0;
}

export function unigramPerplexity(
  train: Samples,
  evaluated: Samples,
  vocabSize: number,
): UnigramResult {
  const counts = new Float64Array(vocabSize);
  const L = seqLength(train);
  let total = 0;
  for (let s = 0; s < train.count; s++)
    for (let t = 1; t < L; t++) {
      const id = train.x[s * L + t] as number;
      counts[id] = (counts[id] as number) + 1;
      total++;
    }
  const E = seqLength(evaluated);
  let nll = 0;
  let tokens = 0;
  const denominator = total + vocabSize;
  for (let s = 0; s < evaluated.count; s++)
    for (let t = 1; t < E; t++) {
      const id = evaluated.x[s * E + t] as number;
      nll -= Math.log(((counts[id] ?? 0) + 1) / denominator);
      tokens++;
    }
  const meanNll = tokens === 0 ? NaN : nll / tokens;
  return { perplexity: Math.exp(meanNll), meanNll, tokens };
}
