// What the evaluators must know about a causal LM besides forward(): its vocabulary size (to
// reject token ids the embedding would silently misread) and its longest input (to truncate or
// reject). Taken from the model's causal-lm task unless the caller gives them.
import { ErrorCode, ScalpelError } from '../errors.js';
import { CausalLmTask } from '../models/tasks/causal-lm.js';
import type { PrunableModel } from '../plugin-api/model.js';

export interface LmLimits {
  /** Token ids must lie in [0, vocabSize). */
  readonly vocabSize?: number;
  /** Longest token sequence the model takes (max_position_embeddings / n_positions). */
  readonly maxLength?: number;
}

/** The caller's limits, completed from the model's task when it is a CausalLmTask. */
export function lmLimits(model: PrunableModel, given: LmLimits = {}): LmLimits {
  const shape = model.task instanceof CausalLmTask ? model.task.shape : undefined;
  const vocabSize = given.vocabSize ?? shape?.vocabSize;
  const maxLength = given.maxLength ?? shape?.maxPositions;
  return {
    ...(vocabSize !== undefined ? { vocabSize } : {}),
    ...(maxLength !== undefined ? { maxLength } : {}),
  };
}

/** Throws E_DATA naming `where()` and the position of the first id the model cannot take. */
export function checkTokenIds(
  ids: ArrayLike<number>,
  vocabSize: number | undefined,
  where: () => string,
): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    const bad = !Number.isInteger(id) || id < 0 || (vocabSize !== undefined && id >= vocabSize);
    if (bad) {
      throw new ScalpelError(
        ErrorCode.Data,
        `${where()}: token ${id} at position ${i} is not an id of the model's vocabulary${vocabSize !== undefined ? ` [0, ${vocabSize})` : ''}`,
        { hint: "tokenize the text with the model's own tokenizer" },
      );
    }
  }
}

/** A batch size must be a positive integer (a caller's bug otherwise). */
export function checkBatchSize(batchSize: number, what: string): void {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `${what}: batchSize must be a positive integer, got ${batchSize}`,
    );
  }
}
