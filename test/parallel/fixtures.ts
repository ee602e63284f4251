// The data-parallel tests' small world: the bundled garment classifier (784-512-512-10) with a
// subset of Fashion-MNIST as the recipes load it, the tiny random GPT-2 and Llama of
// test/icbs/lm, and a helper that runs a block of code at a given worker-thread count.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { garmentDataset } from '../../bench/helpers/garment-data.js';
import { sliceSamples } from '../../src/data/batches.js';
import { initBackend } from '../../src/models/backend.js';
import { tfjsLayersFamily } from '../../src/models/tfjs-layers/family.js';
import {
  closeDataParallel,
  configureDataParallel,
  dataParallelPool,
} from '../../src/parallel/context.js';
import type { Samples } from '../../src/plugin-api/dataset.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import { repoRoot } from '../helpers/paths.js';

export interface Garment {
  readonly model: PrunableModel;
  readonly train: Samples;
  readonly test: Samples;
}

let garment: Promise<Garment> | undefined;

/** The garment classifier with 600 training and 1000 test samples (loaded once per process). */
export function garmentWorld(): Promise<Garment> {
  garment ??= (async () => {
    await initBackend('wasm');
    const ds = await garmentDataset();
    const train = ds.splits.get('train');
    const test = ds.splits.get('test');
    if (train === undefined || test === undefined) throw new Error('fashion-mnist splits');
    const model = await tfjsLayersFamily.load(
      join(repoRoot, 'assets', 'garment-classifier', 'model.json'),
    );
    return { model, train: sliceSamples(train, 0, 600), test: sliceSamples(test, 0, 1000) };
  })();
  return garment;
}

/**
 * `f` with `threads` data-parallel worker threads (1: none); the pool is closed afterwards. With
 * more than one thread, fails unless the workers did run tasks (no silent single-thread fallback).
 */
export async function withThreads<T>(threads: number, f: () => Promise<T>): Promise<T> {
  configureDataParallel(threads, 'wasm');
  try {
    const out = await f();
    if (threads > 1) {
      const done = dataParallelPool()?.completed ?? 0;
      if (done === 0) throw new Error(`no task ran on the ${threads} worker threads`);
    }
    return out;
  } finally {
    await closeDataParallel();
    configureDataParallel(1, 'wasm');
  }
}

/** A short fingerprint of an array's bytes (bitwise comparisons with readable failures). */
export function bits(a: ArrayBufferView | undefined): string {
  if (a === undefined) return 'none';
  return createHash('sha256')
    .update(Buffer.from(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex')
    .slice(0, 16);
}
