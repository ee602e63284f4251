// A model's replica on the worker threads. The model is saved once (its family's own format, in a
// temporary directory) and every worker loads it from there the first time a pass needs it. The
// values of its variables travel separately, versioned: before each pass the run's thread reads
// them and, only when some value changed since the last version (a prune, an iCBS step), makes a
// new version in a fresh SharedArrayBuffer that each worker copies into its own replica once.
import { mkdtempSync, rmSync } from 'node:fs';
import { freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { builtinFamilies } from '../models/families.js';
import type { PrunableModel } from '../plugin-api/model.js';
import { valuesView } from '../models/tensor-storage.js';
import type { ReplicaSource, WeightsMessage } from './protocol.js';

/**
 * The variables a replica keeps equal to the model's: every prunable operator's weight, then
 * every trainable variable not among them, in that order (the same on both sides: a replica is
 * loaded from the same files).
 */
export function syncedVariables(model: PrunableModel): tf.Variable[] {
  const out: tf.Variable[] = [];
  const seen = new Set<tf.Variable>();
  const add = (v: tf.Variable): void => {
    // Only float values change in a run (an int variable is a fixed table).
    if (seen.has(v) || v.dtype !== 'float32') return;
    seen.add(v);
    out.push(v);
  };
  for (const op of model.operators) add(model.weightVariable(op.name));
  for (const v of model.trainableVariables()) add(v);
  return out;
}

/** Share of the machine's free memory the replicas of one model may take together. */
export const replicaMemoryShare = 0.5;

/**
 * Workers that may hold a replica of a model of `replicaBytes` (its variables): at most `threads`,
 * and only as many as fit in `replicaMemoryShare` of `freeBytes` — a default of every core must
 * not mean 64 copies of a 7B model. Below 2 the passes run on the calling thread.
 */
export function replicaWorkers(threads: number, replicaBytes: number, freeBytes: number): number {
  const fit = Math.floor((replicaMemoryShare * freeBytes) / Math.max(1, replicaBytes));
  return Math.max(1, Math.min(threads, fit));
}

/** Bytes of the variables a replica holds (syncedVariables, float32). */
export function replicaBytes(model: PrunableModel): number {
  return syncedVariables(model).reduce((a, v) => a + v.size * 4, 0);
}

let nextReplicaId = 1;

export class ModelReplica {
  readonly id = nextReplicaId++;
  readonly source: ReplicaSource;
  private readonly dir: string;
  private weights: WeightsMessage | undefined;
  /** The values of the current version, bit patterns, to tell whether anything changed. */
  private last: Uint32Array | undefined;

  private constructor(
    readonly model: PrunableModel,
    dir: string,
    modelPath: string,
    /** Workers that may hold this replica (replicaWorkers): the passes' shard count at most. */
    readonly workers: number,
  ) {
    this.dir = dir;
    this.source = { id: this.id, family: model.family, modelPath };
  }

  /**
   * A replica of `model` for up to `threads` workers, or undefined when worker threads cannot load
   * it (only the built-in families are known on a worker: a plugin's family lives in the run's
   * registry) or fewer than two copies fit in memory.
   */
  static async create(model: PrunableModel, threads: number): Promise<ModelReplica | undefined> {
    const family = builtinFamilies.find((f) => f.name === model.family);
    if (family === undefined) return undefined;
    const workers = replicaWorkers(threads, replicaBytes(model), freemem());
    if (workers < 2) return undefined;
    const dir = mkdtempSync(join(tmpdir(), 'scalpel-replica-'));
    try {
      const path = await family.save(model, dir);
      return new ModelReplica(model, dir, join(dir, path), workers);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** The current version of the model's variables: a new one only when a value changed. */
  currentWeights(): WeightsMessage {
    const vars = syncedVariables(this.model);
    // Views of the backend's memory, no copies (a step of training changes every value: a copy of
    // fresh memory cost as much as the write into the shared buffer below). Nothing here runs a
    // tfjs op, so the views stay valid until the values are in the shared buffer.
    const values = vars.map((v) => valuesView(v));
    const total = values.reduce((a, v) => a + v.length, 0);
    let same = this.last !== undefined && this.last.length === total;
    if (same && this.last !== undefined) {
      let offset = 0;
      for (const v of values) {
        const bits = new Uint32Array(v.buffer, v.byteOffset, v.length);
        for (let i = 0; i < bits.length; i++) {
          if (bits[i] !== this.last[offset + i]) {
            same = false;
            break;
          }
        }
        if (!same) break;
        offset += v.length;
      }
    }
    if (same && this.weights !== undefined) return this.weights;
    const buffer = new SharedArrayBuffer(total * 4);
    const all = new Float32Array(buffer);
    let offset = 0;
    for (const v of values) {
      all.set(v, offset);
      offset += v.length;
    }
    // The shared buffer itself is the record: nothing writes into a version once it is made.
    this.last = new Uint32Array(buffer);
    this.weights = {
      version: (this.weights?.version ?? 0) + 1,
      buffer,
      shapes: vars.map((v) => [...v.shape]),
    };
    return this.weights;
  }

  /** Removes the saved files (the workers drop their copies when told, pool.ts). */
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
