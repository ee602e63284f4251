// Each (context, choice) pair of a multiple-choice task as the token sequence the model reads,
// as lm-evaluation-harness builds it: context and choice tokenized separately, concatenated,
// truncated from the LEFT to maxLength + 1 tokens, and the last token dropped (it is only a
// target). The choice's tokens are then predicted by the last `continuation.length` positions.
import { ErrorCode, ScalpelError } from '../errors.js';
import { checkTokenIds, type LmLimits } from './lm-limits.js';
import type { Encode, MultipleChoiceExample } from './multiple-choice-types.js';

export interface ChoiceRequest {
  readonly example: number;
  readonly choice: number;
  /** Tokens fed to the model (length ≤ maxLength). */
  readonly input: Int32Array;
  /** The choice's tokens, predicted by the last continuation.length positions of input. */
  readonly continuation: Int32Array;
  /** Context tokens were cut from the left to fit maxLength. */
  readonly truncated: boolean;
}

function name(ex: MultipleChoiceExample, i: number): string {
  return ex.id !== undefined ? `example ${i} ('${ex.id}')` : `example ${i}`;
}

export function buildChoiceRequests(
  examples: readonly MultipleChoiceExample[],
  encode: Encode,
  limits: LmLimits,
  emptyContextToken: number | undefined,
): ChoiceRequest[] {
  const out: ChoiceRequest[] = [];
  const maxLength = limits.maxLength ?? Infinity;
  examples.forEach((ex, e) => {
    if (
      ex.choices.length === 0 ||
      !Number.isInteger(ex.label) ||
      ex.label < 0 ||
      ex.label >= ex.choices.length
    ) {
      throw new ScalpelError(
        ErrorCode.Data,
        `${name(ex, e)}: label ${ex.label} does not index its ${ex.choices.length} choices`,
        {
          hint: 'the label is the 0-based index of the correct choice',
        },
      );
    }
    let context = encode(ex.context);
    checkTokenIds(context, limits.vocabSize, () => `${name(ex, e)}: encoded context`);
    if (context.length === 0) {
      if (emptyContextToken === undefined) {
        throw new ScalpelError(
          ErrorCode.Data,
          `${name(ex, e)}: the context encodes to no tokens, so the first choice token has nothing to be predicted from`,
          {
            hint: 'give the examples a context, or pass emptyContextToken (lm-evaluation-harness uses the end-of-text token)',
          },
        );
      }
      context = [emptyContextToken];
      checkTokenIds(context, limits.vocabSize, () => 'emptyContextToken');
    }
    ex.choices.forEach((choice, c) => {
      const cont = encode(choice);
      checkTokenIds(cont, limits.vocabSize, () => `${name(ex, e)}: encoded choice ${c}`);
      if (cont.length === 0) {
        throw new ScalpelError(
          ErrorCode.Data,
          `${name(ex, e)}: choice ${c} (${JSON.stringify(choice)}) encodes to no tokens`,
          {
            hint: 'every choice needs at least one token; remove empty choices from the task',
          },
        );
      }
      if (cont.length > maxLength) {
        throw new ScalpelError(
          ErrorCode.Data,
          `${name(ex, e)}: choice ${c} has ${cont.length} tokens, more than the model's ${maxLength} positions`,
          {
            hint: 'shorten the choices, or evaluate a model with a longer context',
          },
        );
      }
      const whole = [...context, ...cont];
      const kept =
        whole.length > maxLength + 1 ? whole.slice(whole.length - (maxLength + 1)) : whole;
      out.push({
        example: e,
        choice: c,
        input: Int32Array.from(kept.slice(0, -1)),
        continuation: Int32Array.from(cont),
        truncated: kept.length < whole.length,
      });
    });
  });
  return out;
}
