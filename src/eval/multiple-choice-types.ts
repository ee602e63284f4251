// The multiple-choice task as scalpel reads it from jsonl and builds it from held-out documents.

/** One zero-shot multiple-choice question. */
export interface MultipleChoiceExample {
  /** Optional name of the example (kept from the task file, set by the builders). */
  readonly id?: string;
  /** The text the model reads first. */
  readonly context: string;
  /** Continuations of the context, scored as given (a leading space is part of the choice). */
  readonly choices: readonly string[];
  /** Index of the correct choice. */
  readonly label: number;
}

/** Text → token ids with the model's tokenizer (no special tokens added). */
export type Encode = (text: string) => number[];
