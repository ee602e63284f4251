// The two whole passes of bench/wasm-threads.ts: the bundled garment classifier's evaluation on
// the Fashion-MNIST test split (10,000 samples, as the evaluate stage runs it) and a forward and a
// forward+backward of the bundled GPT-2 (assets/gutenberg-gpt2) on a batch of 8 × 128 tokens.
// Each returns its median time and what it computed (metrics, gradient checksum) for comparison.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { HfCausalLmModel } from '../../src/models/hf/causal-lm-model.js';
import { hfCausalLmFamily } from '../../src/models/hf/family.js';
import { median } from '../../src/models/metrics.js';
import { tfjsLayersFamily } from '../../src/models/tfjs-layers/family.js';
import { garmentDataset } from './garment-data.js';
import { packageRoot } from '../../src/util/package-root.js';
import { Rng } from '../../src/util/rng.js';
import { otherThreadsShare, threadTicks } from './thread-cpu.js';

export interface PassResult {
  readonly ms: number;
  /** CPU time of the process (all threads) over wall time during the timed runs. */
  readonly cpuPerWall: number;
  /** Share of it outside the main thread (thread-cpu.ts). */
  readonly otherThreads: number;
  readonly check: string;
}

function timed(fn: () => string, runs: number): PassResult {
  fn(); // warm-up: kernels set up, heap grown
  const t: number[] = [];
  let check = '';
  const cpu0 = process.cpuUsage();
  const ticks0 = threadTicks();
  const wall0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    check = fn();
    t.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuPerWall = (cpu.user + cpu.system) / 1000 / (performance.now() - wall0);
  return {
    ms: median(t),
    cpuPerWall,
    otherThreads: otherThreadsShare(ticks0, threadTicks()),
    check,
  };
}

export async function garmentEvaluation(runs: number): Promise<PassResult> {
  const model = await tfjsLayersFamily.load(
    join(packageRoot, 'assets', 'garment-classifier', 'model.json'),
  );
  const test = (await garmentDataset()).splits.get('test');
  if (test === undefined) throw new Error('fashion-mnist has no test split');
  const r = timed(() => {
    const q = model.task.evaluate(model, test, { batchSize: 256, topK: 3 });
    return JSON.stringify({ count: q.count, loss: q.loss, ...q.values });
  }, runs);
  model.dispose();
  return r;
}

function gradSha(grads: tf.NamedTensorMap): string {
  const h = createHash('sha256');
  for (const name of Object.keys(grads).sort()) {
    const d = (grads[name] as tf.Tensor).dataSync();
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

export async function gpt2ForwardBackward(runs: number): Promise<Record<string, PassResult>> {
  const model = (await hfCausalLmFamily.load(join(packageRoot, 'assets', 'gutenberg-gpt2'), {
    includeLmHead: false,
  })) as HfCausalLmModel;
  const [batch, seq] = [8, 128];
  const rng = new Rng(2);
  const x = Float32Array.from({ length: batch * seq }, () => rng.int(model.config.vocabSize));
  const b = model.task.batch({
    count: batch,
    sampleShape: [seq],
    x,
    y: new Int32Array(batch),
    ids: new Int32Array(batch),
  });
  const vars = model.trainableVariables();
  const forward = timed(() => {
    const loss = tf.tidy(() =>
      tf.mean(model.task.perSampleLoss(model.forward(b.inputs).output, b)),
    );
    const v = loss.dataSync()[0];
    loss.dispose();
    return `loss ${v}`;
  }, runs);
  const forwardBackward = timed(() => {
    const { value, grads } = tf.variableGrads(
      () => tf.mean(model.task.perSampleLoss(model.forward(b.inputs).output, b)),
      vars,
    );
    const check = `loss ${value.dataSync()[0]} grads ${gradSha(grads)}`;
    tf.dispose([value, ...Object.values(grads)]);
    return check;
  }, runs);
  tf.dispose([b.inputs, b.targets]);
  model.dispose();
  return {
    [`GPT-2 asset forward (${batch}×${seq} tokens)`]: forward,
    [`GPT-2 asset forward+backward (${batch}×${seq} tokens)`]: forwardBackward,
  };
}
