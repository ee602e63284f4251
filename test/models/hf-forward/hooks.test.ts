// The PrunableModel hooks of the HF causal LMs against the float64 reference: recorded inputs,
// ε-gradients against finite differences of the reference loss, replaced weights, the
// [fanIn, units] view of readWeight/writeWeight, and weight gradients for training.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { HfCausalLmModel } from '../../../src/models/hf/causal-lm-model.js';
import { parseHfConfig } from '../../../src/models/hf/hf-config.js';
import { Rng } from '../../../src/util/rng.js';
import {
  gpt2Json,
  gpt2Weights,
  llamaJson,
  llamaWeights,
  randomIds,
  type RawConfig,
} from './checkpoints.js';
import { assertClose, maxDiff, runLogits } from './harness.js';
import { refGpt2, refLlama, refLoss, type RefHooks, type RefResult } from './reference.js';

interface Case {
  readonly name: string;
  readonly json: RawConfig;
  readonly weights: Map<string, Float32Array>;
  ref(w: ReadonlyMap<string, Float32Array>, ids: number[][], hooks?: RefHooks): RefResult;
  /** Operators whose ε-gradients are checked. */
  readonly probed: readonly string[];
  /** How the architecture stores its projection weights relative to [fanIn, units]. */
  readonly layout: 'same' | 'transposed';
}

const cases: Case[] = [
  {
    name: 'GPT-2',
    json: gpt2Json,
    weights: gpt2Weights(11),
    ref: (w, ids, hooks) => refGpt2(gpt2Json, w, ids, hooks),
    probed: ['h.0.attn.c_attn', 'h.1.mlp.c_fc', 'h.1.mlp.c_proj'],
    layout: 'same',
  },
  {
    name: 'Llama',
    json: llamaJson,
    weights: llamaWeights(12),
    ref: (w, ids, hooks) => refLlama(llamaJson, w, ids, hooks),
    probed: ['model.layers.0.self_attn.k_proj', 'model.layers.1.mlp.down_proj', 'lm_head'],
    layout: 'transposed',
  },
];

const ids = randomIds(21, 2, 7);
const rows = 14;

function idsTensor(): tf.Tensor2D {
  return tf.tensor2d(ids, undefined, 'int32');
}

function randomMatrix(seed: number, n: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => 0.3 * rng.normal());
}

describe('hf-forward: hooks of the PrunableModel', () => {
  before(async () => {
    await initBackend('wasm');
  });

  for (const c of cases) {
    const open = (): HfCausalLmModel =>
      new HfCausalLmModel(parseHfConfig(c.json), c.weights, { includeLmHead: c.name === 'Llama' });

    it(`${c.name}: operators are the blocks' projections in HF names, [fanIn, units]`, () => {
      const model = open();
      const reference = c.ref(c.weights, ids).inputs;
      // The reference records every linear it applies: exactly the operators.
      assert.deepEqual(
        model.operators.map((o) => o.name),
        [...reference.keys()],
      );
      for (const op of model.operators) {
        const stored = c.weights.get(`${op.name}.weight`) as Float32Array;
        assert.equal(op.kind, 'dense');
        assert.equal(op.fanIn * op.units, stored.length);
        assert.equal(
          (reference.get(op.name) as Float64Array).length,
          rows * op.fanIn,
          `${op.name} fanIn`,
        );
        assert.deepEqual(op.kernelShape, [op.fanIn, op.units]);
        assert.equal(model.weightLayout(op.name), c.layout);
        const shape = model.weightVariable(op.name).shape;
        assert.deepEqual(shape, c.layout === 'same' ? [op.fanIn, op.units] : [op.units, op.fanIn]);
      }
      model.dispose();
    });

    it(`${c.name}: recorded inputs are the reference's block inputs X [batch·seq, fanIn]`, () => {
      const model = open();
      const names = new Set(model.operators.map((o) => o.name));
      const reference = c.ref(c.weights, ids).inputs;
      const before = tf.memory().numTensors;
      const recorded = tf.tidy(() => {
        const run = model.forward(idsTensor(), { recordInputs: names });
        return [...names].map((n) => run.inputs.get(n) as tf.Tensor);
      });
      [...names].forEach((name, i) => {
        const X = recorded[i] as tf.Tensor;
        const op = model.operators.find((o) => o.name === name);
        assert.deepEqual(X.shape, [rows, op?.fanIn], name);
        assertClose(X.dataSync(), reference.get(name) as Float64Array, 1e-4, `X of ${name}`);
      });
      tf.dispose(recorded);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      model.dispose();
    });

    it(`${c.name}: inputsOnly records the same inputs, bit for bit, and skips the LM head`, () => {
      const model = open();
      const before = tf.memory().numTensors;
      const firstBlock = new Set(
        model.operators.filter((o) => o.block === model.operators[0]?.block).map((o) => o.name),
      );
      for (const names of [firstBlock, new Set(model.operators.map((o) => o.name))]) {
        const [full, only, output] = tf.tidy(() => {
          const a = model.forward(idsTensor(), { recordInputs: names });
          const b = model.forward(idsTensor(), { recordInputs: names, inputsOnly: true });
          const read = (m: ReadonlyMap<string, tf.Tensor>): Float32Array[] =>
            [...names].map((n) => m.get(n)?.dataSync() as Float32Array);
          return [read(a.inputs), read(b.inputs), b.output.shape];
        });
        assert.deepEqual(only, full, [...names].join(', '));
        // Llama's lm_head is an operator here: recording its input runs the head.
        if (!names.has('lm_head')) assert.notEqual(output.at(-1), c.json.vocab_size, 'no logits');
      }
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      model.dispose();
    });

    it(`${c.name}: reduceInput keeps what it makes of each X (bit for bit), not X`, () => {
      const model = open();
      const before = tf.memory().numTensors;
      const names = new Set(model.operators.map((o) => o.name));
      const [expected, got, kept] = tf.tidy(() => {
        const full = model.forward(idsTensor(), { recordInputs: names });
        const sq = (x: tf.Tensor): tf.Tensor => tf.sum(tf.square(x), 0);
        const run = model.forward(idsTensor(), {
          recordInputs: names,
          reduceInput: (_name, x) => [sq(x)],
        });
        return [
          [...names].map((n) => sq(full.inputs.get(n) as tf.Tensor).dataSync()),
          [...names].map((n) => run.reducedInputs?.get(n)?.[0]?.dataSync()),
          run.inputs.size,
        ];
      });
      assert.equal(kept, 0, 'no X kept');
      assert.deepEqual(got, expected);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      model.dispose();
    });

    it(`${c.name}: ε-gradients of the summed loss equal finite differences of the reference loss`, () => {
      const model = open();
      const before = tf.memory().numTensors;
      const rng = new Rng(5);
      for (const name of c.probed) {
        const [r, units] = tf.tidy(() => model.perturbationShape(name, idsTensor()));
        assert.equal(r, rows);
        const grad = tf.tidy(() => {
          const batch = model.task.batch({
            count: 2,
            sampleShape: [7],
            x: Float32Array.from(ids.flat()),
            y: new Int32Array(2),
            ids: Int32Array.of(0, 1),
          });
          return tf.grad((eps: tf.Tensor) =>
            tf.sum(
              model.task.perSampleLoss(
                model.forward(batch.inputs, {
                  perturb: new Map([[name, eps]]),
                  inputGradientsOnly: true,
                }).output,
                batch,
              ),
            ),
          )(tf.zeros([r, units]));
        });
        const g = grad.dataSync();
        grad.dispose();
        // Central differences in float64 at random entries, and one in the last position, whose
        // logits predict nothing: its gradient is 0 (and only later positions could see it).
        const delta = 1e-5;
        const entries = Array.from({ length: 12 }, () => rng.int(r * units));
        entries.push((r - 1) * units + rng.int(units));
        const fds = entries.map((e) => {
          const lossAt = (sign: number): number => {
            const d = new Float64Array(r * units);
            d[e] = sign * delta;
            return refLoss(c.ref(c.weights, ids, { delta: new Map([[name, d]]) }).logits, ids, 50);
          };
          return (lossAt(1) - lossAt(-1)) / (2 * delta);
        });
        const scale = Math.max(...fds.map(Math.abs));
        entries.forEach((e, k) => {
          const fd = fds[k] as number;
          assert.ok(
            Math.abs((g[e] as number) - fd) <= 2e-3 * scale + 2e-6,
            `${name} entry ${e}: ${g[e]} vs ${fd}`,
          );
        });
        assert.equal(fds[fds.length - 1], 0, 'the last position feeds no prediction');
        assert.ok(scale > 1e-3, `${name}: gradients are not all ~0`);
      }
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      model.dispose();
    });

    it(`${c.name}: a replaced [fanIn, units] weight changes the logits as in the reference`, () => {
      const model = open();
      const op = model.operators[model.operators.length - 2] ?? model.operators[0];
      if (op === undefined) throw new Error('no operators');
      const w = randomMatrix(9, op.fanIn * op.units);
      const before = tf.memory().numTensors;
      const replaced = tf.tensor2d(w, [op.fanIn, op.units]);
      const logits = runLogits(model, ids, { weights: new Map([[op.name, replaced]]) });
      replaced.dispose();
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      const expected = c.ref(c.weights, ids, { weights: new Map([[op.name, w]]) }).logits;
      assertClose(logits, expected, 1e-4, `logits with ${op.name} replaced`);
      assert.ok(maxDiff(logits, c.ref(c.weights, ids).logits) > 0.05, 'the replacement matters');
      model.dispose();
    });

    it(`${c.name}: readWeight/writeWeight work in the [fanIn, units] view, tensors() in HF orientation`, () => {
      const model = open();
      for (const op of model.operators) {
        const stored = c.weights.get(`${op.name}.weight`) as Float32Array;
        const view = model.readWeight(op.name);
        for (let i = 0; i < op.fanIn; i++) {
          for (let o = 0; o < op.units; o++) {
            const hf = c.layout === 'same' ? stored[i * op.units + o] : stored[o * op.fanIn + i];
            if (view[i * op.units + o] !== hf)
              assert.fail(`${op.name}[${i}, ${o}]: ${view[i * op.units + o]} vs ${hf}`);
          }
        }
      }
      const op = model.operators[1];
      if (op === undefined) throw new Error('no operators');
      const w = randomMatrix(10, op.fanIn * op.units);
      model.writeWeight(op.name, w);
      assert.deepEqual(model.readWeight(op.name), w);
      const hf = model.tensors().get(`${op.name}.weight`) as Float32Array;
      assert.equal(hf[1], c.layout === 'same' ? w[1] : w[op.units], 'HF orientation');
      const expected = c.ref(c.weights, ids, { weights: new Map([[op.name, w]]) }).logits;
      assertClose(runLogits(model, ids), expected, 1e-4, 'logits after writeWeight');
      // tensors() is a checkpoint the reference runs as is.
      assertClose(
        runLogits(model, ids),
        c.ref(model.tensors(), ids).logits,
        1e-4,
        'logits of tensors()',
      );
      model.dispose();
    });
  }

  it('GPT-2 training: every variable gets a gradient on wasm; the tied embedding one equals finite differences', () => {
    const weights = gpt2Weights(13);
    const model = new HfCausalLmModel(parseHfConfig(gpt2Json), weights);
    const before = tf.memory().numTensors;
    const variables = model.trainableVariables();
    assert.equal(variables.length, weights.size);
    const { value, grads } = tf.variableGrads(() => {
      const batch = model.task.batch({
        count: 2,
        sampleShape: [7],
        x: Float32Array.from(ids.flat()),
        y: new Int32Array(2),
        ids: Int32Array.of(0, 1),
      });
      const loss = tf.sum(
        model.task.perSampleLoss(
          model.forward(batch.inputs, { training: true, rng: new Rng(1), weightGradients: true })
            .output,
          batch,
        ),
      );
      return loss as tf.Scalar;
    }, variables);
    const wte = variables[0] as tf.Variable;
    const g = (grads[wte.name] as tf.Tensor).dataSync();
    assert.equal(Object.keys(grads).length, variables.length);
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    // An id used twice in the batch and one never used (head only).
    const used = ids[0]?.[2] as number;
    const unused = [...Array(50).keys()].find((v) => !ids.flat().includes(v)) as number;
    for (const entry of [used * 16 + 3, unused * 16 + 5]) {
      const lossAt = (delta: number): number => {
        const w = new Map(weights);
        const t = Float32Array.from(w.get('wte.weight') as Float32Array);
        t[entry] = (t[entry] as number) + delta;
        w.set('wte.weight', t);
        return refLoss(refGpt2(gpt2Json, w, ids).logits, ids, 50);
      };
      // The steps as float32 stores them.
      const x = weights.get('wte.weight')?.[entry] as number;
      const [up, down] = [Math.fround(x + 1e-3) - x, Math.fround(x - 1e-3) - x];
      const fd = (lossAt(up) - lossAt(down)) / (up - down);
      assert.ok(
        Math.abs((g[entry] as number) - fd) < 1e-3 * Math.max(Math.abs(fd), 1),
        `wte[${entry}]: ${g[entry]} vs ${fd}`,
      );
    }
    model.dispose();
  });

  it('GPT-2 dropout: seeded by hooks.rng in training, absent in inference', () => {
    const json = { ...gpt2Json, resid_pdrop: 0.1, attn_pdrop: 0.1, embd_pdrop: 0.1 };
    const weights = gpt2Weights(14);
    const model = new HfCausalLmModel(parseHfConfig(json), weights);
    const a = runLogits(model, ids, { training: true, rng: new Rng(3) });
    const b = runLogits(model, ids, { training: true, rng: new Rng(3) });
    const other = runLogits(model, ids, { training: true, rng: new Rng(4) });
    assert.deepEqual(a, b);
    assert.ok(maxDiff(a, other) > 1e-2);
    assertClose(
      runLogits(model, ids),
      refGpt2(json, weights, ids).logits,
      1e-4,
      'inference logits',
    );
    assert.throws(
      () =>
        tf.tidy(() => {
          model.forward(idsTensor(), { training: true });
        }),
      (e: Error & { code?: string }) => e.code === 'E_INTERNAL',
    );
    model.dispose();
  });
});
