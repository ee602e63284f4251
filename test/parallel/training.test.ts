// Data-parallel training steps (`microBatches`: models/training/micro-batches.ts,
// src/parallel/training.ts): the trained weights and curves are the same bits at 1, 2 and 3
// threads (an MLP with dropout, the tiny GPT-2 with dropout and the tiny Llama; the epoch loop and
// the steps loop); the accumulated gradient against float64 formulas and against the whole-batch
// gradient; the micro-batches added in order; microBatches 1 is the loop as it was (weights
// recorded from main before the parameter existed); a resumed run equals an uninterrupted one;
// bad values fail through a recipe with the stage named.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/models/backend.js';
import { HfCausalLmModel } from '../../src/models/hf/causal-lm-model.js';
import { parseHfConfig } from '../../src/models/hf/hf-config.js';
import { TfjsLayersModel } from '../../src/models/tfjs-layers/layers-model.js';
import { createOptimizer, trainLoop } from '../../src/models/training-loop.js';
import {
  accumulatedGradients,
  microBatchGradients,
  microBatchesOf,
  sliceBatch,
} from '../../src/models/training/micro-batches.js';
import { runStepLoop, type StepLoopOptions } from '../../src/models/training/step-loop.js';
import { workerMicroBatches } from '../../src/parallel/training.js';
import type { Samples } from '../../src/plugin-api/dataset.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import { Rng } from '../../src/util/rng.js';
import { runCli } from '../cli/cli-helpers.js';
import { tempDir } from '../helpers/paths.js';
import { tinyLms, tokenSplit } from '../icbs/lm/fixtures.js';
import { randomSamples, tinyModel } from '../models/training/tiny-model.js';
import {
  closeDataParallel,
  configureDataParallel,
  dataParallelPool,
} from '../../src/parallel/context.js';
import { readJson, runDirOf } from '../cli/cli-helpers.js';
import { withThreads } from './fixtures.js';

/** sha256 of every trainable value, variable after variable. */
function weightBits(model: PrunableModel): string {
  const h = createHash('sha256');
  for (const v of model.trainableVariables()) {
    const a = v.dataSync() as Float32Array;
    h.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

/** Curves without wall-clock times. */
function untimed(curve: readonly object[]): unknown {
  return curve.map((c) => Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'seconds')));
}

interface World {
  readonly name: string;
  make(): PrunableModel;
  readonly train: Samples;
  readonly batchSize: number;
}

function tokens(count: number, seq: number, seed: number): Samples {
  const rng = new Rng(seed);
  return tokenSplit(
    'train',
    Array.from({ length: count }, () => Array.from({ length: seq }, () => rng.int(50))),
  );
}

function worlds(): World[] {
  const [gpt2, llama] = tinyLms();
  if (gpt2 === undefined || llama === undefined) throw new Error('tiny LMs');
  const gpt2Dropout = { ...gpt2.json, resid_pdrop: 0.1, embd_pdrop: 0.1, attn_pdrop: 0.1 };
  return [
    // 45 samples in batches of 8: the epoch's last batch (5) is cut 2 + 2 + 1.
    {
      name: 'MLP with dropout',
      make: () => tinyModel(3),
      train: randomSamples(45, 1),
      batchSize: 8,
    },
    {
      name: 'tiny GPT-2 with dropout',
      make: () => new HfCausalLmModel(parseHfConfig(gpt2Dropout), gpt2.weights),
      train: tokens(14, 8, 21),
      batchSize: 6,
    },
    { name: 'tiny Llama', make: () => llama.open(), train: tokens(14, 8, 22), batchSize: 6 },
  ];
}

async function epochRun(w: World, threads: number, microBatches: number): Promise<string> {
  return withThreads(threads, async () => {
    const model = w.make();
    const optimizer = createOptimizer({ name: 'adam', learningRate: 0.01 });
    try {
      const curve = await trainLoop({
        model,
        train: w.train,
        optimizer,
        epochs: 1,
        batchSize: w.batchSize,
        microBatches,
        microBatchRunner: workerMicroBatches,
        rng: new Rng(5),
        where: 'test',
      });
      return `${weightBits(model)} ${JSON.stringify(untimed(curve))}`;
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  });
}

function stepOptions(model: PrunableModel, extra: Partial<StepLoopOptions>): StepLoopOptions {
  return {
    model,
    train: randomSamples(45, 1),
    steps: 6,
    batchSize: 8,
    schedule: {
      kind: 'warmup-cosine',
      learningRate: 0.05,
      minLearningRate: 0.005,
      warmupSteps: 2,
      totalSteps: 6,
    },
    optimizer: { weightDecay: 0.1 },
    clipNorm: 0.5,
    rng: new Rng(5),
    curveEvery: 3,
    microBatchRunner: workerMicroBatches,
    where: 'test',
    ...extra,
  };
}

async function stepRun(w: World, threads: number, microBatches: number): Promise<string> {
  return withThreads(threads, async () => {
    const model = w.make();
    try {
      const r = await runStepLoop(
        stepOptions(model, { train: w.train, batchSize: w.batchSize, steps: 3, microBatches }),
      );
      return `${weightBits(model)} ${JSON.stringify(r.curve)}`;
    } finally {
      model.dispose();
    }
  });
}

/** A softmax regression 5 → 4 (one Dense layer, logits), seeded. */
function denseClassifier(): TfjsLayersModel {
  return new TfjsLayersModel(
    tfl.sequential({
      layers: [
        tfl.layers.dense({
          inputShape: [5],
          units: 4,
          kernelInitializer: tfl.initializers.randomNormal({ stddev: 0.7, seed: 4 }),
          biasInitializer: tfl.initializers.randomNormal({ stddev: 0.3, seed: 5 }),
        }),
      ],
    }),
  );
}

function denseSamples(count: number): Samples {
  const rng = new Rng(8);
  return {
    count,
    sampleShape: [5],
    x: Float32Array.from({ length: count * 5 }, () => rng.normal()),
    y: Int32Array.from({ length: count }, () => rng.int(4)),
    ids: Int32Array.from({ length: count }, (_, i) => i),
  };
}

/** Float64 mean cross-entropy of softmax(xW + b) and its gradient, from the formulas. */
function denseReference(
  W: Float32Array,
  b: Float32Array,
  s: Samples,
): { loss: number; dW: Float64Array; db: Float64Array } {
  const dW = new Float64Array(20);
  const db = new Float64Array(4);
  let loss = 0;
  for (let n = 0; n < s.count; n++) {
    const z = [0, 1, 2, 3].map((u) => {
      let t = b[u] as number;
      for (let i = 0; i < 5; i++) t += (s.x[n * 5 + i] as number) * (W[i * 4 + u] as number);
      return t;
    });
    const max = Math.max(...z);
    const e = z.map((t) => Math.exp(t - max));
    const sum = e.reduce((a, x) => a + x, 0);
    const y = s.y[n] as number;
    loss += -Math.log((e[y] as number) / sum);
    for (let u = 0; u < 4; u++) {
      const d = (e[u] as number) / sum - (u === y ? 1 : 0);
      db[u] = (db[u] as number) + d / s.count;
      for (let i = 0; i < 5; i++)
        dW[i * 4 + u] = (dW[i * 4 + u] as number) + ((s.x[n * 5 + i] as number) * d) / s.count;
    }
  }
  return { loss: loss / s.count, dW, db };
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as number;
    const w = want[i] as number;
    assert.ok(Math.abs(g - w) <= tol * (1 + Math.abs(w)), `${what}[${i}]: ${g} vs ${w}`);
  }
}

function gradientValues(grads: tf.NamedTensorMap, model: PrunableModel): Float32Array[] {
  return model.trainableVariables().map((v) => {
    const g = grads[v.name];
    if (g === undefined) throw new Error(`no gradient of ${v.name}`);
    return g.dataSync() as Float32Array;
  });
}

describe('data-parallel training (microBatches)', function () {
  this.timeout(300_000);
  before(async () => {
    await initBackend('wasm');
  });

  for (const w of worlds()) {
    it(`epoch loop, ${w.name}, microBatches 3: the same weights and curve at 1, 2 and 3 threads`, async () => {
      const one = await epochRun(w, 1, 3);
      assert.equal(await epochRun(w, 2, 3), one);
      assert.equal(await epochRun(w, 3, 3), one);
      // Accumulation changes the noise and the rounding, not nothing: the run is not K = 1's.
      assert.notEqual(await epochRun(w, 1, 1), one);
    });

    it(`steps loop, ${w.name}, microBatches 3: the same weights and curve at 1, 2 and 3 threads`, async () => {
      const one = await stepRun(w, 1, 3);
      assert.equal(await stepRun(w, 2, 3), one);
      assert.equal(await stepRun(w, 3, 3), one);
    });
  }

  it('the accumulated gradient is the float64 mean-loss gradient and the whole batch’s, at 1 and 2 threads', async () => {
    const model = denseClassifier();
    const samples = denseSamples(7);
    const batch = model.task.batch(samples);
    try {
      const [kernel, bias] = model.trainableVariables().map((v) => v.dataSync() as Float32Array);
      const ref = denseReference(kernel as Float32Array, bias as Float32Array, samples);
      const local = await accumulatedGradients(model, batch, 3, new Rng(1));
      const [dW, db] = gradientValues(local.grads, model);
      assertClose(dW as Float32Array, ref.dW, 2e-6, 'dW');
      assertClose(db as Float32Array, ref.db, 2e-6, 'db');
      assertClose([local.loss], [ref.loss], 2e-6, 'loss');
      // The whole batch's gradient (one forward, tf.mean), as microBatches 1 computes it.
      const whole = tf.variableGrads(() =>
        tf.mean<tf.Scalar>(model.task.perSampleLoss(model.forward(batch.inputs).output, batch)),
      );
      const [wW, wb] = gradientValues(whole.grads, model);
      assertClose(dW as Float32Array, wW as Float32Array, 1e-6, 'dW vs whole batch');
      assertClose(db as Float32Array, wb as Float32Array, 1e-6, 'db vs whole batch');
      const onWorkers = await withThreads(2, async () => {
        const g = await accumulatedGradients(model, batch, 3, new Rng(1), workerMicroBatches);
        const values = gradientValues(g.grads, model).map((a) => [...a]);
        tf.dispose(Object.values(g.grads));
        return { values, loss: g.loss };
      });
      assert.deepEqual(onWorkers.values, [[...(dW as Float32Array)], [...(db as Float32Array)]]);
      assert.equal(onWorkers.loss, local.loss);
      tf.dispose([...Object.values(local.grads), ...Object.values(whole.grads), whole.value]);
    } finally {
      tf.dispose([batch.inputs, batch.targets]);
      model.dispose();
    }
  });

  it('adds the micro-batches’ gradients in micro-batch order, each with its own dropout seed', async () => {
    const model = tinyModel(3);
    const batch = model.task.batch(randomSamples(45, 1));
    try {
      const parts = microBatchesOf(45, 5, new Rng(2));
      assert.deepEqual(
        parts.map((p) => [p.start, p.end]),
        [
          [0, 9],
          [9, 18],
          [18, 27],
          [27, 36],
          [36, 45],
        ],
      );
      assert.deepEqual(
        microBatchesOf(7, 3, new Rng(2)).map((p) => p.end - p.start),
        [3, 2, 2],
      );
      const expected = model.trainableVariables().map((v) => new Float32Array(v.size));
      let loss = 0;
      for (const p of parts) {
        const part = sliceBatch(batch, p.start, p.end);
        const g = microBatchGradients(model, part, 45, p.seed);
        tf.dispose([part.inputs, part.targets]);
        g.grads.forEach((a, i) => {
          const e = expected[i] as Float32Array;
          for (let j = 0; j < e.length; j++) e[j] = Math.fround((e[j] as number) + (a?.[j] ?? 0));
        });
        loss += g.loss;
      }
      const got = await accumulatedGradients(model, batch, 5, new Rng(2));
      const values = gradientValues(got.grads, model);
      values.forEach((v, i) => assert.deepEqual([...v], [...(expected[i] as Float32Array)]));
      assert.equal(got.loss, loss);
      tf.dispose(Object.values(got.grads));
    } finally {
      tf.dispose([batch.inputs, batch.targets]);
      model.dispose();
    }
  });

  it('microBatches 1 is the loop as it was (weights recorded on main before the parameter)', async () => {
    const train = randomSamples(45, 1);
    for (const microBatches of [undefined, 1]) {
      const m = tinyModel(3);
      const optimizer = createOptimizer({ name: 'adam', learningRate: 0.01 });
      const curve = await trainLoop({
        model: m,
        train,
        optimizer,
        epochs: 2,
        batchSize: 8,
        microBatches,
        microBatchRunner: workerMicroBatches,
        rng: new Rng(5),
        where: 'x',
      });
      assert.equal(weightBits(m), 'e53baeabe3d4d11b');
      assert.deepEqual(
        curve.map((c) => [c.loss, c.accuracy]),
        [
          [1.241561237970988, 0.3111111111111111],
          [1.141898963186476, 0.3333333333333333],
        ],
      );
      optimizer.dispose();
      m.dispose();
      const s = tinyModel(3);
      const r = await runStepLoop(stepOptions(s, { train, microBatches }));
      assert.equal(weightBits(s), 'ddbad4c0a38f9a85');
      assert.deepEqual(r.curve, [
        {
          step: 3,
          loss: 1.1507860819498699,
          learningRate: 0.04340990257669732,
          gradNorm: 0.9012839400782257,
        },
        { step: 6, loss: 1.2451945543289185, learningRate: 0.005, gradNorm: 1.016987841085478 },
      ]);
      s.dispose();
    }
  });

  it('steps loop, microBatches 2: a run interrupted at 1 thread and resumed at 2 equals an uninterrupted one', async () => {
    const whole = tinyModel(3);
    const wholeResult = await runStepLoop(stepOptions(whole, { microBatches: 2 }));
    const expected = weightBits(whole);
    whole.dispose();
    const dir = tempDir('scalpel-micro-ckpt-');
    try {
      const first = tinyModel(3);
      const controller = new AbortController();
      await assert.rejects(
        runStepLoop(
          stepOptions(first, {
            microBatches: 2,
            checkpoints: { dir, every: 2 },
            signal: controller.signal,
            onProgress: (p) => {
              if (p.step === 3) controller.abort();
            },
          }),
        ),
      );
      first.dispose();
      assert.deepEqual(readdirSync(dir).sort(), ['step-000000002.ckpt', 'step-000000003.ckpt']);
      const rest = await withThreads(2, async () => {
        const fresh = tinyModel(99);
        let resumedAt = -1;
        const r = await runStepLoop(
          stepOptions(fresh, {
            microBatches: 2,
            checkpoints: { dir, every: 2 },
            onResume: (step) => (resumedAt = step),
          }),
        );
        assert.equal(resumedAt, 3);
        const bits = weightBits(fresh);
        fresh.dispose();
        return { bits, curve: r.curve };
      });
      assert.equal(rest.bits, expected);
      assert.deepEqual(rest.curve, wholeResult.curve);
      // A checkpoint of the microBatches 2 run does not fit a run without accumulation.
      const other = tinyModel(3);
      await assert.rejects(
        runStepLoop(stepOptions(other, { checkpoints: { dir, every: 2 } })),
        /microBatches/,
      );
      other.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a batch-norm model trains its micro-batches on the calling thread: its moving averages change, the same at 1 and 2 threads', async () => {
    const run = async (
      threads: number,
    ): Promise<{ bits: string; moving: number[]; tasks: number }> => {
      configureDataParallel(threads, 'wasm');
      try {
        const model = new TfjsLayersModel(
          tfl.sequential({
            layers: [
              tfl.layers.dense({
                inputShape: [6],
                units: 8,
                kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
              }),
              tfl.layers.batchNormalization(),
              tfl.layers.dense({
                units: 3,
                kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
              }),
            ],
          }),
        );
        const optimizer = createOptimizer({ name: 'adam', learningRate: 0.01 });
        await trainLoop({
          model,
          train: randomSamples(45, 1),
          optimizer,
          epochs: 1,
          batchSize: 8,
          microBatches: 2,
          microBatchRunner: workerMicroBatches,
          rng: new Rng(5),
          where: 'test',
        });
        const movingMean = model.layersModel.nonTrainableWeights[0]?.read().dataSync() ?? [];
        const out = {
          bits: weightBits(model),
          moving: [...movingMean],
          tasks: dataParallelPool()?.completed ?? 0,
        };
        optimizer.dispose();
        model.dispose();
        return out;
      } finally {
        await closeDataParallel();
        configureDataParallel(1, 'wasm');
      }
    };
    const one = await run(1);
    const two = await run(2);
    assert.equal(two.tasks, 0, 'no micro-batch ran on a worker');
    assert.equal(two.bits, one.bits);
    assert.deepEqual(two.moving, one.moving);
    assert.ok(
      one.moving.some((m) => m !== 0),
      'the moving mean was updated',
    );
  });

  it('train and finetune through the CLI with microBatches 2: the same artifacts at --threads 1 and 2', async () => {
    const dir = tempDir('scalpel-micro-e2e-');
    try {
      writeFileSync(
        join(dir, 'recipe.yaml'),
        `version: 1
name: micro-e2e
seed: 11
backend: wasm
stages:
  data: { uses: load-dataset, with: { source: fashion-mnist, normalize: { mean: 0.5, std: 0.5 } } }
  fit:
    uses: train
    needs: [data]
    with:
      model:
        input: [784]
        layers:
          - { type: dense, units: 32, activation: relu }
          - { type: dropout, rate: 0.2 }
          - { type: dense, units: 10 }
      epochs: 1
      samples: 300
      batchSize: 64
      microBatches: 2
  tune:
    uses: finetune
    needs: [fit, data]
    with: { steps: 3, batchSize: 48, microBatches: 3, samples: 300, learningRate: 0.001 }
`,
      );
      const runs: string[] = [];
      for (const threads of ['1', '2']) {
        const r = await runCli(
          ['run', 'recipe.yaml', '--no-cache', '--threads', threads, '--out', `t${threads}`],
          dir,
        );
        assert.equal(r.code, 0, r.stdout + r.stderr);
        runs.push(runDirOf(r, dir));
      }
      const [one, two] = runs as [string, string];
      const strip = (x: unknown): unknown =>
        JSON.parse(
          JSON.stringify(x, (k, v: unknown) => (/(seconds|timeMs|Ms)$/.test(k) ? undefined : v)),
        );
      assert.deepEqual(
        strip(readJson(join(two, 'metrics.json'))),
        strip(readJson(join(one, 'metrics.json'))),
      );
      for (const stage of ['fit', 'tune']) {
        for (const f of readdirSync(join(one, 'artifacts', stage))) {
          const a = readFileSync(join(one, 'artifacts', stage, f));
          const b = readFileSync(join(two, 'artifacts', stage, f));
          assert.ok(a.equals(b), `${stage}/${f} differs`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('bad values through a recipe', () => {
    let dir: string;
    before(() => (dir = tempDir('scalpel-micro-recipe-')));
    after(() => rmSync(dir, { recursive: true, force: true }));

    const recipe = (stage: string, microBatches: string): string => `version: 1
name: micro
seed: 3
backend: wasm
stages:
  data: { uses: load-dataset, with: { source: fashion-mnist, normalize: { mean: 0.5, std: 0.5 } } }
  ${stage}:
    uses: train
    needs: [data]
    with:
      model: { input: [784], layers: [{ type: dense, units: 10 }] }
      epochs: 1
      samples: 64
      batchSize: 8
      microBatches: ${microBatches}
`;

    it('microBatches larger than batchSize fails the stage, naming it and both parameters', async () => {
      writeFileSync(join(dir, 'big.yaml'), recipe('fit-big', '9'));
      const r = await runCli(['run', 'big.yaml', '--no-cache', '--out', 'big'], dir);
      const out = r.stdout + r.stderr;
      assert.notEqual(r.code, 0, out);
      assert.match(out, /E_STAGE/);
      assert.match(
        out,
        /stage 'fit-big': with\.microBatches \(9\) is larger than with\.batchSize \(8\)/,
      );
    });

    for (const bad of ['0', '1.5']) {
      it(`the schema rejects microBatches ${bad}`, async () => {
        writeFileSync(join(dir, 'bad.yaml'), recipe('fit', bad));
        const r = await runCli(['validate', 'bad.yaml'], dir);
        const out = r.stdout + r.stderr;
        assert.notEqual(r.code, 0, out);
        assert.match(out, /E_RECIPE_SCHEMA/);
        assert.match(out, /microBatches/);
      });
    }
  });
});
