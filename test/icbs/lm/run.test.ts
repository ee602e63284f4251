// A whole iCBS run on the tiny causal LMs, in the paper's LLM setting at toy size: Wanda init per
// output, gradient selection, fisher Hessian, fixing and tabu, steps spread over every projection
// of every block ∝ log10(size), and the quality–time curve in validation perplexity. Checked
// against computations made here from the spec (docs: icbs.md) and the float64 reference forward:
//   - the initial mask is Wanda per output: ‖X_i‖₂ from the reference's recorded layer inputs over
//     the first initSamples training sequences, every output unit keeps its best density·fanIn;
//   - steps per projection are the largest-remainder split of log10(size) (one each first);
//   - frozen weights (the lowest-scored 30 % of the pruned, the highest 30 % of the kept) end as
//     they started; every layer keeps exactly half of its weights;
//   - curve points carry loss and perplexity = exp(loss) of the validation sequences, and the
//     first and last equal the reference's token-mean NLL under the initial and final masks.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { icbsPruner } from '../../../src/icbs/pruner.js';
import type { IcbsParams } from '../../../src/icbs/params.js';
import type { Mask } from '../../../src/plugin-api/layers.js';
import { pruneArgs, type RecordedEvent } from '../prune-args.js';
import { refGpt2, refLlama } from '../../models/hf-forward/reference.js';
import {
  denseView,
  mean,
  sampleSequences,
  sequenceLosses,
  tinyLms,
  tokenDataset,
  type TinyLm,
} from './fixtures.js';

const density = 0.5;
const initSamples = 32;

const params: Partial<IcbsParams> = {
  init: { method: 'wanda', granularity: 'per-output' },
  initSamples,
  selection: 'gradient',
  hessian: 'fisher',
  blockSize: 16,
  k: 8,
  steps: 20,
  epochs: 1,
  batchSize: 16,
  tabuFraction: 0.3,
  fix: { prune: 0.3, keep: 0.3 },
  minStepsPerLayer: 1,
  evaluateEvery: 5,
  evaluateOn: { split: 'test', samples: 12 },
  solver: { uses: 'sa', restarts: 2, workers: 0 },
};

/** Every operator's recorded input X [rows, fanIn] in float64, at the dense weights. */
function referenceInputs(lm: TinyLm, ids: number[][]): Map<string, Float64Array> {
  return lm.name === 'GPT-2'
    ? refGpt2(lm.json, lm.weights, ids).inputs
    : refLlama(lm.json, lm.weights, ids).inputs;
}

/** Steps per layer: one each, the rest ∝ log10(size) by largest remainder (ties: layer order). */
function expectedSteps(sizes: number[], steps: number): number[] {
  const rest = steps - sizes.length;
  const w = sizes.map((s) => Math.log10(s));
  const total = w.reduce((a, b) => a + b, 0);
  const exact = w.map((x) => (rest * x) / total);
  const counts = exact.map(Math.floor);
  const left = rest - counts.reduce((a, b) => a + b, 0);
  const order = exact
    .map((e, i) => i)
    .sort((a, b) => {
      const ra = (exact[a] as number) % 1;
      const rb = (exact[b] as number) % 1;
      return rb - ra || a - b;
    });
  for (const i of order.slice(0, left)) counts[i] = (counts[i] as number) + 1;
  return counts.map((c) => c + 1);
}

/** The [fanIn, units] weights under keep-masks. */
function maskedViews(
  lm: TinyLm,
  ops: readonly { name: string; fanIn: number; units: number }[],
  masks: ReadonlyMap<string, Mask>,
): Map<string, Float64Array> {
  return new Map(
    ops.map((o) => {
      const v = denseView(lm, o.name, o.fanIn, o.units);
      const m = masks.get(o.name) as Mask;
      for (let j = 0; j < v.length; j++) if (m[j] === 0) v[j] = 0;
      return [o.name, v];
    }),
  );
}

describe('icbs on causal LMs: a whole run', () => {
  before(async () => {
    await initBackend('wasm');
  });

  for (const lm of tinyLms()) {
    it(`${lm.name}: wanda per-output init, log-size schedule, fixing, exact density, perplexity curve`, async function () {
      this.timeout(60_000);
      const train = sampleSequences(lm, 48, 8, 41);
      const test = sampleSequences(lm, 12, 8, 42);
      const data = tokenDataset(train, test);
      const model = lm.open();
      const ops = model.operators;
      const tensorsBefore = tf.memory().numTensors;

      // The initial mask alone (no steps), then the run.
      const init = await icbsPruner.prune(
        pruneArgs(model, data, { ...params, steps: 0, evaluateEvery: 0 }, { density }),
      );
      const events: RecordedEvent[] = [];
      const logged: string[] = [];
      const args = pruneArgs(model, data, params, { density, events });
      const result = await icbsPruner.prune({
        ...args,
        log: { ...args.log, info: (m: string) => void logged.push(m) },
      });
      assert.equal(tf.memory().numTensors, tensorsBefore, 'tensors leaked');

      // Wanda per output from the reference's layer inputs.
      const X = referenceInputs(lm, train.slice(0, initSamples));
      const frozen = new Map<string, Uint8Array>();
      for (const o of ops) {
        const x = X.get(o.name) as Float64Array;
        const rows = x.length / o.fanIn;
        const norms = Array.from({ length: o.fanIn }, (_, i) => {
          let s = 0;
          for (let r = 0; r < rows; r++) s += (x[r * o.fanIn + i] as number) ** 2;
          return Math.sqrt(s);
        });
        const w0 = denseView(lm, o.name, o.fanIn, o.units);
        const score = (j: number): number =>
          Math.abs(w0[j] as number) * (norms[Math.floor(j / o.units)] as number);
        const keep = Math.round(density * o.fanIn);
        const mask = init.masks.get(o.name) as Mask;
        for (let u = 0; u < o.units; u++) {
          const col = Array.from({ length: o.fanIn }, (_, i) => i * o.units + u).sort(
            (a, b) => score(b) - score(a),
          );
          const kept = col.filter((j) => mask[j] === 1);
          assert.deepEqual(kept.sort(), col.slice(0, keep).sort(), `${o.name} unit ${u}`);
        }
        // Fixing (counts round half up): the spec's frozen sets by the same scores.
        const pruned = [...Array(mask.length).keys()].filter((j) => mask[j] === 0);
        const keptAll = [...Array(mask.length).keys()].filter((j) => mask[j] === 1);
        const f = new Uint8Array(mask.length);
        pruned.sort((a, b) => score(a) - score(b));
        for (const j of pruned.slice(0, Math.floor(0.3 * pruned.length + 0.5))) f[j] = 1;
        keptAll.sort((a, b) => score(b) - score(a));
        for (const j of keptAll.slice(0, Math.floor(0.3 * keptAll.length + 0.5))) f[j] = 1;
        frozen.set(o.name, f);
      }

      // Every projection of every block got its log-size share of the steps.
      const steps = events.filter((e) => e.type === 'icbs.step').map((e) => e.data);
      assert.equal(steps.length, 20);
      const perLayer = ops.map((o) => steps.filter((s) => s.layer === o.name).length);
      assert.deepEqual(
        perLayer,
        expectedSteps(
          ops.map((o) => o.paramCount),
          20,
        ),
      );
      const changed = steps.filter((s) => s.changed === true).length;
      assert.ok(changed >= 5, `steps change the mask (${changed} of 20)`);
      for (const s of steps) assert.ok((s.predictedDeltaL as number) <= 0, 'never predicted worse');

      // Exact density; frozen weights as initialised; tabu on where it leaves blockSize candidates.
      const info = (result.info as { icbs: Record<string, unknown> }).icbs;
      const layers = info.layers as Record<string, { frozen: number; tabuCapacity: number }>;
      for (const o of ops) {
        const m = result.masks.get(o.name) as Mask;
        const m0 = init.masks.get(o.name) as Mask;
        assert.equal(
          m.reduce((a, v) => a + v, 0),
          o.paramCount * density,
          `${o.name} density`,
        );
        const f = frozen.get(o.name) as Uint8Array;
        const nFrozen = f.reduce((a, v) => a + v, 0);
        assert.equal(layers[o.name]?.frozen, nFrozen, `${o.name} frozen count`);
        for (let j = 0; j < m.length; j++)
          if (f[j] === 1) assert.equal(m[j], m0[j], `${o.name}: frozen weight ${j} moved`);
        const free = o.paramCount - nFrozen;
        const cap = Math.floor(0.3 * free);
        assert.equal(layers[o.name]?.tabuCapacity, free - cap < 16 ? 0 : cap, `${o.name} tabu`);
      }
      assert.ok(
        ops.some((o) => (layers[o.name]?.tabuCapacity ?? 0) > 0),
        'tabu active somewhere',
      );

      // The curve: validation perplexity every 5 steps; first and last against the reference.
      const curve = info.curve as { step: number; loss: number; perplexity: number }[];
      assert.deepEqual(
        curve.map((p) => p.step),
        [0, 5, 10, 15, 20],
      );
      for (const p of curve)
        assert.ok(Math.abs(p.perplexity - Math.exp(p.loss)) < 1e-9 * p.perplexity);
      const refLoss = (masks: ReadonlyMap<string, Mask>): number =>
        mean(sequenceLosses(lm.logits(test, maskedViews(lm, ops, masks)), test));
      assert.ok(Math.abs((curve[0]?.loss as number) - refLoss(init.masks)) < 1e-4, 'step 0 loss');
      assert.ok(Math.abs((curve[4]?.loss as number) - refLoss(result.masks)) < 1e-4, 'final loss');
      assert.ok(
        logged.some((l) => /^icbs step 20: perplexity \d/.test(l)),
        'perplexity logged',
      );
      model.dispose();
    });
  }
});
