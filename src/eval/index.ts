// LM evaluation as lm-evaluation-harness defines it (docs/lm-evaluation.md): one import point.
export { meanAndStderr, type MeanStderr } from './accuracy-stats.js';
export {
  buildLambadaStyleTask,
  buildNextSentenceTask,
  type BuiltExample,
  type LambadaStyleOptions,
  type NextSentenceOptions,
  type TextDocument,
} from './build-tasks.js';
export { lmLimits, type LmLimits } from './lm-limits.js';
export {
  evaluateMultipleChoice,
  type ExampleScore,
  type MultipleChoiceOptions,
  type MultipleChoiceResult,
  type MultipleChoiceTask,
} from './multiple-choice.js';
export {
  formatMultipleChoiceJsonl,
  parseMultipleChoiceJsonl,
  readMultipleChoiceJsonl,
  writeMultipleChoiceJsonl,
} from './multiple-choice-jsonl.js';
export type { Encode, MultipleChoiceExample } from './multiple-choice-types.js';
export { packTokenSequences, type PackedTokens } from './pack-tokens.js';
export { evaluatePerplexity, type PerplexityOptions, type PerplexityResult } from './perplexity.js';
export { splitSentences } from './sentences.js';
export { codePointLength, textLength, utf8ByteLength, type LengthUnit } from './text-length.js';
