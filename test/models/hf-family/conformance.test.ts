// The hf-causal-lm family through the family conformance suite, on checkpoints loaded from disk:
// GPT-2 (F32, sharded) and Llama (BF16, with the untied lm_head as an operator, which the model
// artifact must keep). The independent reference is the float64 forward of hf-forward/reference.ts
// on the weights the test wrote, and its recorded operator inputs.
import { initBackend } from '../../../src/models/backend.js';
import { builtinFamilyLookup } from '../../../src/models/families.js';
import { hfCausalLmFamily } from '../../../src/models/hf/family.js';
import type { PrunableModel } from '../../../src/plugin-api/model.js';
import type { Batch } from '../../../src/plugin-api/task.js';
import {
  describeFamilyConformance,
  type FamilyConformanceSubject,
} from '../../conformance/family-conformance.js';
import { randomIds } from '../hf-forward/checkpoints.js';
import { gpt2Case, llamaCase, writeCase, type CheckpointCase } from './fixtures.js';

function idsOf(batch: Batch): number[][] {
  return batch.inputs.arraySync() as number[][];
}

function subject(c: CheckpointCase, includeLmHead: boolean): FamilyConformanceSubject {
  let dir: Promise<string> | undefined;
  return {
    name: `hf-causal-lm ${c.name}${includeLmHead ? ' with lm_head' : ''}`,
    families: builtinFamilyLookup,
    exact: false,
    load: async () => hfCausalLmFamily.load(await (dir ??= writeCase(c)), { includeLmHead }),
    batch: (model: PrunableModel) => {
      const ids = randomIds(31, 2, 6);
      return model.task.batch({
        count: 2,
        sampleShape: [6],
        x: Float32Array.from(ids.flat()),
        y: new Int32Array(2),
        ids: Int32Array.from([0, 1]),
      });
    },
    reference: (_model, batch) => c.reference(c.weights, idsOf(batch)).logits,
    referenceInput: (_model, batch, operator) =>
      c.reference(c.weights, idsOf(batch)).inputs.get(operator),
  };
}

describe('hf-causal-lm family', () => {
  before(async () => {
    await initBackend('wasm');
  });
  describeFamilyConformance(subject(gpt2Case, false));
  describeFamilyConformance(subject(llamaCase, true));
});
