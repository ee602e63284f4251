// The single-thread code of bench/data-parallel.ts's passes, by name, loadable in any thread: the
// host-ceiling measurement (host-ceiling.ts) runs copies of them side by side on worker threads.
// Each workload is exactly what the bench's 1-thread pass runs (same model, data, batch sizes).
import { join } from 'node:path';
import { sliceSamples, disposeBatch } from '../../src/data/batches.js';
import { hfCausalLmFamily } from '../../src/models/hf/family.js';
import { GradientEngine } from '../../src/models/per-sample-gradients.js';
import { layerStatistics } from '../../src/pruning/layer-statistics.js';
import type { Samples } from '../../src/plugin-api/dataset.js';
import { packageRoot } from '../../src/util/package-root.js';
import { Rng } from '../../src/util/rng.js';
import { garmentModelAndData } from './garment-data.js';

export const workloadNames = [
  'garment-evaluation',
  'garment-gradients',
  'garment-gradients-mean',
  'gpt2-forward-backward',
  'gpt2-evaluation',
] as const;
export type WorkloadName = (typeof workloadNames)[number];

/** 128-token sequences of random ids below 4096 (the bundled GPT-2's vocabulary), seeded. */
export function tokenSamples(count: number, seed: number, shared = false): Samples {
  const seq = 128;
  const rng = new Rng(seed);
  const x = shared
    ? new Float32Array(new SharedArrayBuffer(count * seq * 4))
    : new Float32Array(count * seq);
  for (let i = 0; i < x.length; i++) x[i] = rng.int(4096);
  return {
    count,
    sampleShape: [seq],
    x,
    y: new Int32Array(count),
    ids: Int32Array.from({ length: count }, (_, i) => i),
  };
}

/** The 1024 linear2 entries whose per-sample gradients the garment gradient passes form. */
export function garmentBlock(paramCount: number): Int32Array {
  return Int32Array.from(new Rng(5).permutation(paramCount).subarray(0, 1024));
}

/** Loads what `name` needs (backend already initialised) and returns one run of it. */
export async function loadWorkload(name: WorkloadName): Promise<() => Promise<void>> {
  if (name.startsWith('garment')) {
    const { model, train, test } = await garmentModelAndData();
    if (name === 'garment-evaluation')
      return () => {
        model.task.evaluate(model, test, { batchSize: 256, topK: 3 });
        return Promise.resolve();
      };
    const info = model.operators.find((o) => o.name === 'linear2');
    if (info === undefined) throw new Error('no linear2');
    const block = garmentBlock(info.paramCount);
    const engine = new GradientEngine(model);
    const withMean = name === 'garment-gradients-mean';
    return () => {
      const batch = model.task.batch(sliceSamples(train, 0, 2000));
      const g = engine.compute(batch, ['linear2']).get('linear2');
      if (g === undefined) throw new Error('no gradients');
      g.blockGradients(block);
      if (withMean) g.meanGradient();
      g.dispose();
      disposeBatch(batch);
      return Promise.resolve();
    };
  }
  const lm = await hfCausalLmFamily.load(join(packageRoot, 'assets', 'gutenberg-gpt2'));
  if (name === 'gpt2-evaluation') {
    const ev = tokenSamples(32, 2);
    return () => {
      lm.task.evaluate(lm, ev, { batchSize: 4 });
      return Promise.resolve();
    };
  }
  const fb = tokenSamples(16, 1);
  const requests = lm.operators.map((info) => ({
    info,
    inputNorms: false,
    gram: false,
    meanGradient: true,
  }));
  return async () => {
    await layerStatistics(lm, fb, requests, { batchSize: 2 });
  };
}
