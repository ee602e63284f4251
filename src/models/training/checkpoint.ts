// Training checkpoints in a directory: `step-<9 digits>.ckpt` files (checkpoint-file.ts), each
// written atomically, the newest `keep` kept. A checkpoint holds the step, every model variable,
// AdamW's moments and step, the RNG streams' positions and the loop's JSON state; restoring it into
// a freshly built model and optimizer makes the continued run bit-identical to an uninterrupted one
// (float32 values are stored bit for bit, and everything else the run depends on is a pure
// function of the step or of the seeded streams).
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import { writeFailed } from '../../error-factories.js';
import { fsyncDir, writeFileAtomic } from '../../util/atomic-file.js';
import type { Rng, RngState } from '../../util/rng.js';
import type { AdamW } from './adamw.js';
import {
  encodeCheckpoint,
  readCheckpointFile,
  type CheckpointData,
  type CheckpointTensor,
  type OptimizerSettings,
  type TensorGroup,
} from './checkpoint-file.js';

export type { CheckpointData } from './checkpoint-file.js';

/** The live objects a checkpoint is taken from and restored into. */
export interface TrainingState {
  /** Every variable training changes, in a fixed order (matched by position and shape). */
  readonly variables: readonly tf.Variable[];
  readonly optimizer: AdamW;
  /** Streams whose positions are saved, and restored when named here. */
  readonly rngs: Readonly<Record<string, Rng>>;
}

const namePattern = /^step-(\d{9,})\.ckpt$/;

export function checkpointPath(dir: string, step: number): string {
  return join(dir, `step-${String(step).padStart(9, '0')}.ckpt`);
}

/** The checkpoints in `dir`, oldest first (none when the directory does not exist). */
export async function listCheckpoints(dir: string): Promise<{ step: number; path: string }[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ScalpelError(
      ErrorCode.Io,
      `cannot list the checkpoint directory ${dir}: ${String(e)}`,
      {
        location: { file: dir },
        hint: 'check that it is a readable directory',
        cause: e,
      },
    );
  }
  return names
    .map((n) => ({ n, m: namePattern.exec(n) }))
    .filter((x) => x.m !== null)
    .map((x) => ({ step: Number(x.m?.[1]), path: join(dir, x.n) }))
    .sort((a, b) => a.step - b.step);
}

/** The path of the newest checkpoint in `dir`, if any. */
export async function newestCheckpoint(dir: string): Promise<string | undefined> {
  return (await listCheckpoints(dir)).at(-1)?.path;
}

/**
 * Write the state after `step` updates into `dir` (created if needed) atomically, then delete all
 * but the newest `keep` checkpoints. Returns the file written.
 */
export async function saveCheckpoint(
  dir: string,
  step: number,
  state: TrainingState,
  loop: Readonly<Record<string, unknown>>,
  keep = 2,
): Promise<string> {
  const opt = state.optimizer.readState();
  const copy = (group: TensorGroup, v: tf.Variable, values: Float32Array): CheckpointTensor => ({
    group,
    name: v.name,
    shape: v.shape,
    values,
  });
  const o = state.optimizer;
  const tensors = [
    ...state.variables.map((v) =>
      copy('model', v, Float32Array.from(v.dataSync() as Float32Array)),
    ),
    ...o.variables.map((v, i) => copy('m', v, opt.m[i] as Float32Array)),
    ...o.variables.map((v, i) => copy('v', v, opt.v[i] as Float32Array)),
  ];
  const data: CheckpointData = {
    step,
    tensors,
    optimizer: { step: opt.step, ...settingsOf(o) },
    rngs: Object.fromEntries(Object.entries(state.rngs).map(([k, r]) => [k, r.snapshot()])),
    loop,
  };
  const path = checkpointPath(dir, step);
  try {
    await fs.mkdir(dir, { recursive: true });
    await writeFileAtomic(path, encodeCheckpoint(data));
    fsyncDir(dir);
  } catch (e) {
    throw writeFailed(path, e, { what: 'training checkpoint' });
  }
  const all = await listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - Math.max(1, keep)))) {
    await fs.rm(old.path, { force: true });
  }
  return path;
}

/** Read and verify a checkpoint (E_IO when missing, E_DATA naming the file when corrupt). */
export function loadCheckpoint(path: string): Promise<CheckpointData> {
  return readCheckpointFile(path);
}

function settingsOf(o: AdamW): OptimizerSettings {
  return {
    beta1: o.beta1,
    beta2: o.beta2,
    epsilon: o.epsilon,
    weightDecay: o.weightDecay,
    decayed: [...o.decayed],
  };
}

/**
 * Put a checkpoint's state into live objects. Everything is checked before anything is assigned,
 * so a mismatch (E_DATA naming `path`) leaves the state untouched.
 */
export function restoreCheckpoint(data: CheckpointData, state: TrainingState, path: string): void {
  const mismatch = (what: string): ScalpelError =>
    new ScalpelError(
      ErrorCode.Data,
      `training checkpoint ${path} does not fit this training run: ${what}`,
      {
        location: { file: path },
        hint: 'it was written for another model or optimizer: delete the checkpoint directory to train from the start',
      },
    );
  const groups = (g: TensorGroup): CheckpointTensor[] => data.tensors.filter((t) => t.group === g);
  const checkGroup = (
    g: TensorGroup,
    vars: readonly tf.Variable[],
    label: string,
  ): CheckpointTensor[] => {
    const saved = groups(g);
    if (saved.length !== vars.length)
      throw mismatch(`it holds ${saved.length} ${label}, this run has ${vars.length}`);
    vars.forEach((v, i) => {
      const s = saved[i] as CheckpointTensor;
      if (!tf.util.arraysEqual([...s.shape], v.shape)) {
        throw mismatch(
          `${label} ${i} ('${s.name}' when saved, '${v.name}' now) has shape [${s.shape.join(', ')}] there, [${v.shape.join(', ')}] here`,
        );
      }
    });
    return saved;
  };
  const model = checkGroup('model', state.variables, 'model variables');
  const m = checkGroup('m', state.optimizer.variables, 'optimizer first moments');
  const v = checkGroup('v', state.optimizer.variables, 'optimizer second moments');
  const want = settingsOf(state.optimizer);
  const have = data.optimizer;
  for (const key of ['beta1', 'beta2', 'epsilon', 'weightDecay'] as const) {
    if (have[key] !== want[key])
      throw mismatch(`optimizer ${key} is ${have[key]} there, ${want[key]} here`);
  }
  if (have.decayed.join() !== want.decayed.join())
    throw mismatch('weight decay applies to other variables there');
  for (const [name, rng] of Object.entries(state.rngs)) {
    const saved = data.rngs[name];
    if (saved === undefined) throw mismatch(`it has no position for the RNG stream '${name}'`);
    if (saved.seed !== rng.seed)
      throw mismatch(`RNG stream '${name}' has seed ${saved.seed} there, ${rng.seed} here`);
  }
  state.variables.forEach((x, i) =>
    tf.tidy(() => x.assign(tf.tensor((model[i] as CheckpointTensor).values, x.shape, 'float32'))),
  );
  state.optimizer.writeState({
    step: have.step,
    m: m.map((t) => t.values),
    v: v.map((t) => t.values),
  });
  for (const [name, rng] of Object.entries(state.rngs)) rng.restore(data.rngs[name] as RngState);
}
