// A checkpoint checked against its config.json from the safetensors headers alone (no tensor data,
// no tensors): what `inspect` runs at validate/plan time, and `load` before it reads any weights,
// so a missing, unexpected, mis-shaped or non-float tensor is reported by name in milliseconds.
// What only the values show (a stored tied lm_head copy that differs from its embedding) is left
// to the load-time check, checkTensors.
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { HfCheckpoint } from './checkpoint-dir.js';
import type { CheckpointLayout } from './checkpoint-tensors.js';
import { Gpt2Architecture } from './gpt2.js';
import type { HfCausalLmConfig } from './hf-config.js';
import { LlamaArchitecture } from './llama.js';
import type { SafetensorsDtype } from './safetensors.js';

/** The dtypes the reader converts to float32 weights. */
const floatDtypes: ReadonlySet<SafetensorsDtype> = new Set(['F32', 'F16', 'BF16', 'F64']);

/** What the check needs of a checkpoint: its header information. */
export type StoredTensors = Pick<HfCheckpoint, 'tensorNames' | 'shapeOf' | 'dtypeOf'>;

/** The tensors `config` implies (GPT-2 takes its name prefix from the checkpoint's names). */
export function checkpointLayout(
  config: HfCausalLmConfig,
  names: ReadonlySet<string>,
): CheckpointLayout {
  // The architecture constructors only derive names and shapes; they create no tensors.
  return config.architecture === 'gpt2'
    ? new Gpt2Architecture(config, names).layout
    : new LlamaArchitecture(config).layout;
}

const shapeText = (s: readonly number[]): string => `[${s.join(', ')}]`;

function dataError(message: string, tensor: string, file: string, hint: string): ScalpelError {
  return new ScalpelError(ErrorCode.Data, message, { layer: tensor, location: { file }, hint });
}

/**
 * Throws E_DATA naming the first tensor of `stored` that is missing, unexpected, shaped other than
 * the config says, or not a float dtype. `where` is the checkpoint as the user wrote it.
 */
export function checkStoredTensors(
  layout: CheckpointLayout,
  stored: StoredTensors,
  where: string,
): void {
  const names = new Set(stored.tensorNames());
  const expected = new Map(layout.tensors.map((t) => [t.name, t.shape]));
  const tied = layout.tiedCopy;
  if (tied !== undefined && names.has(tied.name)) {
    expected.set(tied.name, expected.get(tied.of) ?? []);
  }
  for (const [name, shape] of expected) {
    if (!names.has(name)) {
      throw dataError(
        `checkpoint ${where} has no tensor '${name}' (config.json implies shape ${shapeText(shape)})`,
        name,
        where,
        'the weights do not belong to this config.json, or the checkpoint is incomplete',
      );
    }
    const got = stored.shapeOf(name);
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw dataError(
        `tensor '${name}' in checkpoint ${where} has shape ${shapeText(got)}; config.json implies ${shapeText(shape)}`,
        name,
        where,
        'the weights do not belong to this config.json (different sizes or a transposed tensor)',
      );
    }
  }
  for (const name of names) {
    if (!expected.has(name) && !layout.ignored.test(name)) {
      throw dataError(
        `unexpected tensor '${name}' in checkpoint ${where}`,
        name,
        where,
        'the weights belong to another architecture or head than config.json describes',
      );
    }
    const dtype = stored.dtypeOf(name);
    if (expected.has(name) && !floatDtypes.has(dtype)) {
      throw dataError(
        `tensor '${name}' in checkpoint ${where} has dtype ${dtype}; weights must be F32, F16, BF16 or F64`,
        name,
        where,
        'convert the checkpoint to float weights (quantized checkpoints are not supported)',
      );
    }
  }
}
