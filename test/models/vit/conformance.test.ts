// The hf-image-classifier family through the family conformance suite, on checkpoints loaded from
// disk: a ViT (three channels) with only the encoder projections as operators, and a DeiT with
// teacher with the patch embedding and both heads as operators too (which the model artifact must
// keep). The independent reference is the float64 forward of reference.ts on the weights the test
// wrote, and the operator inputs it records.
import { initBackend } from '../../../src/models/backend.js';
import { builtinFamilyLookup } from '../../../src/models/families.js';
import { hfImageClassifierFamily } from '../../../src/models/hf/image-family.js';
import type { Batch } from '../../../src/plugin-api/task.js';
import {
  describeFamilyConformance,
  type FamilyConformanceSubject,
} from '../../conformance/family-conformance.js';
import { deitRef, randomImages, vitCase, vitRef, writeVitCase, type VitCase } from './fixtures.js';
import { refVit } from './reference.js';

function imagesOf(c: VitCase, batch: Batch): Float32Array[] {
  const x = batch.inputs.dataSync() as Float32Array;
  const size = x.length / batch.count;
  return Array.from({ length: batch.count }, (_, i) => x.slice(i * size, (i + 1) * size));
}

function subject(c: VitCase, everything: boolean): FamilyConformanceSubject {
  let dir: Promise<string> | undefined;
  const S = c.ref.image;
  return {
    name: `hf-image-classifier ${c.name}`,
    families: builtinFamilyLookup,
    exact: false,
    load: async () =>
      hfImageClassifierFamily.load(
        await (dir ??= writeVitCase(c)),
        everything ? { includePatchEmbedding: true, includeClassifier: true } : {},
      ),
    batch: (model) => {
      const images = randomImages(c.ref, 2, 21);
      return model.task.batch({
        count: 2,
        sampleShape: [S, S, c.ref.channels],
        x: Float32Array.from(images.flatMap((i) => [...i])),
        y: Int32Array.from([0, 2]),
        ids: Int32Array.from([0, 1]),
      });
    },
    reference: (_model, batch) => refVit(c.ref, c.weights, imagesOf(c, batch)).logits,
    referenceInput: (_model, batch, operator) =>
      refVit(c.ref, c.weights, imagesOf(c, batch)).inputs.get(operator),
  };
}

describe('hf-image-classifier family', () => {
  before(async () => {
    await initBackend('wasm');
  });
  describeFamilyConformance(subject(vitCase('ViT', vitRef, 4), false));
  describeFamilyConformance(
    subject(vitCase('DeiT with teacher, patch embedding and heads', deitRef, 5), true),
  );
});
