// The tokenizer trainer's defaults ARE the train-tokenizer stage's schema defaults, read from the
// schema file: a library caller and a recipe get the same tokenizer for the same options. (The
// one exception is deliberate: the library trains no special tokens unless given some, while the
// stage's default is GPT-2's '<|endoftext|>'.)
import { ErrorCode, ScalpelError } from '../../errors.js';
import { readSchema, schemaDefaults } from '../../util/schemas.js';

const stageDefaults = schemaDefaults(readSchema('stages/train-tokenizer.schema.json'));

function numberDefault(name: string): number {
  const v = stageDefaults[name];
  if (typeof v !== 'number')
    throw new ScalpelError(
      ErrorCode.Internal,
      `schemas/stages/train-tokenizer.schema.json has no number default for ${name}`,
    );
  return v;
}

/** A pair is merged only if it occurs at least this often. */
export const defaultMinFrequency = numberDefault('minFrequency');
/** tokenizer_config.json's model_max_length (GPT-2's context). */
export const defaultModelMaxLength = numberDefault('modelMaxLength');
