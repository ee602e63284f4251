// What the forward of the HF causal LMs leaves alive: each block's attention and MLP run in tidies
// of their own, so a forward inside the caller's tidy holds two residual streams per block, not
// every temporary of every block (which for GPT-2 small was ~850 MB during evaluation).
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { HfCausalLmModel } from '../../../src/models/hf/causal-lm-model.js';
import { parseHfConfig } from '../../../src/models/hf/hf-config.js';
import {
  gpt2Json,
  gpt2Weights,
  llamaJson,
  llamaWeights,
  randomIds,
  type RawConfig,
} from './checkpoints.js';

/** The 2-layer fixture cut to its first layer (config and tensors). */
function oneLayer(
  json: RawConfig,
  weights: Map<string, Float32Array>,
  layerKey: string,
  blockPrefix: string,
): [RawConfig, Map<string, Float32Array>] {
  const w = new Map([...weights].filter(([name]) => !name.startsWith(blockPrefix)));
  return [{ ...json, [layerKey]: 1 }, w];
}

/** Tensors a forward leaves in the caller's tidy scope. */
function aliveAfterForward(model: HfCausalLmModel, hooks = {}): number {
  const before = tf.memory().numTensors;
  const ids = tf.tensor2d(randomIds(3, 2, 6), undefined, 'int32');
  const alive = tf.tidy(() => {
    model.forward(ids, hooks);
    return tf.memory().numTensors - before - 1;
  });
  ids.dispose();
  assert.equal(tf.memory().numTensors, before, 'the tidy frees everything');
  return alive;
}

const cases = [
  {
    name: 'GPT-2',
    two: (): [RawConfig, Map<string, Float32Array>] => [gpt2Json, gpt2Weights(1)],
    one: (): [RawConfig, Map<string, Float32Array>] =>
      oneLayer(gpt2Json, gpt2Weights(1), 'n_layer', 'h.1.'),
  },
  {
    name: 'Llama',
    two: (): [RawConfig, Map<string, Float32Array>] => [llamaJson, llamaWeights(2)],
    one: (): [RawConfig, Map<string, Float32Array>] =>
      oneLayer(llamaJson, llamaWeights(2), 'num_hidden_layers', 'model.layers.1.'),
  },
];

describe('hf-forward: what a forward keeps alive', () => {
  before(async () => {
    await initBackend('wasm');
  });

  for (const c of cases) {
    it(`${c.name}: one more block leaves two more tensors (its attention and MLP outputs), recorded inputs kept too`, () => {
      const open = ([json, w]: [RawConfig, Map<string, Float32Array>]): HfCausalLmModel =>
        new HfCausalLmModel(parseHfConfig(json), w);
      const one = open(c.one());
      const two = open(c.two());
      try {
        assert.equal(aliveAfterForward(two) - aliveAfterForward(one), 2);
        // Recording every operator's input keeps exactly those on top.
        const record = (m: HfCausalLmModel): { recordInputs: Set<string> } => ({
          recordInputs: new Set(m.operators.map((o) => o.name)),
        });
        assert.equal(
          aliveAfterForward(two, record(two)) - aliveAfterForward(two),
          new Set(two.operators.map((o) => o.name)).size - sharedInputs(c.name, two),
        );
      } finally {
        one.dispose();
        two.dispose();
      }
    });
  }
});

/** Operators that read the same tensor as another one (Llama's q/k/v and gate/up share theirs). */
function sharedInputs(name: string, model: HfCausalLmModel): number {
  return name === 'Llama' ? (model.operators.length / 7) * 3 : 0;
}
