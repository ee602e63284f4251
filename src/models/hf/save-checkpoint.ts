// A model written as a Hugging Face checkpoint (an HfCausalLmModel by saveHfCheckpoint, any
// family's tensors and config by saveCheckpoint) into a directory that may already hold other
// files (a stage directory receives masks.json beside it): config.json (the stored one, or one
// derived from the parsed config), the weights under their HF names and in HF orientation, in the
// dtype they were loaded with unless told otherwise, and the tokenizer files of the directory the
// model came from. The checkpoint is written into a hidden subdirectory and its files renamed
// into place, config.json last, so an interrupted save never looks like a checkpoint.
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import {
  auxiliaryFiles,
  configFile,
  singleWeightsFile,
  weightsIndexFile,
  writeCheckpoint,
} from './checkpoint-dir.js';
import { checkpointLayout } from './checkpoint-check.js';
import type { HfCausalLmModel } from './causal-lm-model.js';
import { configJsonOf } from './config-json.js';
import { HfCheckpointModel } from './load-checkpoint.js';
import type { FloatDtype, SafetensorsDtype, StreamedTensorToWrite } from './safetensors.js';

export interface SaveHfOptions {
  /** Store every tensor in this dtype (default: each as it was loaded; F32 for F64 and new models). */
  readonly dtype?: FloatDtype;
}

const shardFile = /^model-\d{5}-of-\d{5}\.safetensors$/;
const fixedNames: ReadonlySet<string> = new Set([
  configFile,
  singleWeightsFile,
  weightsIndexFile,
  ...auxiliaryFiles,
]);

/** Whether `name` is a file a checkpoint save may write (config, weights, index, shards, tokenizer). */
export function isHfCheckpointFileName(name: string): boolean {
  return fixedNames.has(name) || shardFile.test(name);
}

/** transformers' name of a dtype, for config.json's torch_dtype. */
const torchDtype: Record<FloatDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

function writableDtype(stored: SafetensorsDtype | undefined): FloatDtype {
  return stored === 'F16' || stored === 'BF16' ? stored : 'F32';
}

/** A model's checkpoint as the writer needs it, whatever the family. */
export interface CheckpointToSave {
  /** Each tensor's values by HF name, read when the writer reaches it. */
  readonly readers: ReadonlyMap<string, () => Float32Array>;
  /** Each tensor's HF shape. */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** The dtype each tensor was loaded with (a loaded checkpoint's), else F32. */
  readonly storedDtypes?: ReadonlyMap<string, SafetensorsDtype>;
  /** config.json to write (torch_dtype is set from the dtypes written). */
  readonly configJson: Readonly<Record<string, unknown>>;
  /** A checkpoint directory whose tokenizer/generation files travel with the model. */
  readonly copyFrom?: string;
}

/**
 * The tensors with their HF shapes and the dtype each is stored in, each read from its variable
 * only when the writer reaches it (a copy of the whole model would double the memory).
 */
function tensorsToWrite(c: CheckpointToSave, options: SaveHfOptions): StreamedTensorToWrite[] {
  return [...c.readers].map(([name, read]) => {
    const shape = c.shapes.get(name);
    if (shape === undefined) {
      throw new ScalpelError(ErrorCode.Internal, `no shape for tensor '${name}' of the model`, {
        layer: name,
      });
    }
    return {
      name,
      shape,
      values: read,
      dtype: options.dtype ?? writableDtype(c.storedDtypes?.get(name)),
    };
  });
}

/** config.json to write: the given one with torch_dtype saying the dtype. */
function configToWrite(
  c: CheckpointToSave,
  tensors: readonly StreamedTensorToWrite[],
): Record<string, unknown> {
  const json: Record<string, unknown> = { ...c.configJson };
  const dtypes = new Set(tensors.map((t) => t.dtype ?? 'F32'));
  const [only] = dtypes;
  if (dtypes.size === 1 && only !== undefined) {
    json.torch_dtype = torchDtype[only];
    if ('dtype' in json) json.dtype = torchDtype[only]; // the newer name transformers writes
  }
  return json;
}

/** What saveHfCheckpoint writes for a causal LM: its tensors, the stored or a derived config. */
function causalLmCheckpoint(model: HfCausalLmModel): CheckpointToSave {
  const readers = model.tensorReaders();
  const layout = checkpointLayout(model.config, new Set(readers.keys()));
  const shapes = new Map(layout.tensors.map((t) => [t.name, t.shape]));
  if (layout.tiedCopy !== undefined) {
    shapes.set(layout.tiedCopy.name, shapes.get(layout.tiedCopy.of) ?? []);
  }
  const loaded = model instanceof HfCheckpointModel ? model.source : undefined;
  return {
    readers,
    shapes,
    configJson: loaded?.configJson ?? configJsonOf(model.config),
    ...(loaded !== undefined ? { storedDtypes: loaded.dtypes, copyFrom: loaded.dir } : {}),
  };
}

async function refuseExistingCheckpoint(dir: string): Promise<void> {
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  const clash = entries.find(isHfCheckpointFileName);
  if (clash !== undefined) {
    throw new ScalpelError(
      ErrorCode.Io,
      `cannot save a checkpoint into ${dir}: it already holds ${clash}`,
      {
        location: { file: join(dir, clash) },
        hint: 'save into a directory without another checkpoint, so old and new files never mix',
      },
    );
  }
}

/**
 * Write `model` into `dirPath` (created if missing) as a Hugging Face checkpoint; returns the
 * names of the files written, relative to the directory, config.json last.
 */
export async function saveHfCheckpoint(
  model: HfCausalLmModel,
  dirPath: string,
  options: SaveHfOptions = {},
): Promise<string[]> {
  return saveCheckpoint(causalLmCheckpoint(model), dirPath, options);
}

/** As saveHfCheckpoint, for any family's tensors and config. */
export async function saveCheckpoint(
  checkpoint: CheckpointToSave,
  dirPath: string,
  options: SaveHfOptions = {},
): Promise<string[]> {
  const dir = resolve(dirPath);
  await fs.mkdir(dir, { recursive: true });
  await refuseExistingCheckpoint(dir);
  const tensors = tensorsToWrite(checkpoint, options);
  const tmp = join(dir, `.checkpoint-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    const written = await writeCheckpoint(tmp, {
      config: configToWrite(checkpoint, tensors),
      tensors,
      ...(checkpoint.copyFrom !== undefined ? { copyFrom: checkpoint.copyFrom } : {}),
    });
    const names = written.map((f) => basename(f));
    for (const name of names) {
      await fs.rename(join(tmp, name), join(dir, name)).catch((e: unknown) => {
        throw new ScalpelError(ErrorCode.Io, `cannot move ${name} into ${dir}: ${String(e)}`, {
          location: { file: join(dir, name) },
          hint: 'check that the directory is writable',
          cause: e,
        });
      });
    }
    return names;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
