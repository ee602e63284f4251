// The conformance suite for model families: what every PrunableModel must do for pruners,
// calibrate and iCBS to be right on it. A family passes when its forward equals an independent
// reference, its hooks do what they promise (recorded inputs, ε-gradients against finite
// differences, replaced weights against written weights), masks and weights survive the model
// artifact, and nothing leaks. `describeFamilyConformance` registers the mocha tests for one
// subject (a model of the family plus the independent references it is held against).
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  readModelArtifact,
  writeModelArtifact,
  type FamilyLookup,
} from '../../src/models/model-artifact.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import type { Batch } from '../../src/plugin-api/task.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/paths.js';

export interface FamilyConformanceSubject {
  /** Shown in the test titles. */
  readonly name: string;
  /** A fresh model of the family (the suite disposes it). */
  load(): Promise<PrunableModel>;
  /** A small batch for the model (the suite disposes it). */
  batch(model: PrunableModel): Batch;
  /** The model's output for the batch computed WITHOUT the family's forward (e.g. predict, float64). */
  reference(model: PrunableModel, batch: Batch): Float32Array | Float64Array;
  /** Whether forward must equal the reference bit for bit (else within 1e-5 relative). */
  readonly exact: boolean;
  /** Independent X [rows, fanIn] of an operator for the batch (row-major), where the subject can compute it. */
  referenceInput?(model: PrunableModel, batch: Batch, operator: string): Float64Array | undefined;
  /** How artifacts find the family. */
  readonly families: FamilyLookup;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rel: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const scale = maxAbs(expected);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    assert.ok(
      Math.abs(a - e) <= rel * scale + 1e-7,
      `${what}[${i}]: ${a} vs ${e} (scale ${scale})`,
    );
  }
}

/** Σ of the task's per-sample losses with ε added to one operator (float64 read-back). */
function summedLoss(model: PrunableModel, batch: Batch, perturb?: Map<string, tf.Tensor>): number {
  return tf.tidy(() => {
    const out = model.forward(batch.inputs, perturb === undefined ? {} : { perturb }).output;
    return tf.sum(model.task.perSampleLoss(out, batch)).dataSync()[0] as number;
  });
}

async function withModel(
  subject: FamilyConformanceSubject,
  f: (model: PrunableModel, batch: Batch) => Promise<void> | void,
): Promise<void> {
  const model = await subject.load();
  const batch = subject.batch(model);
  try {
    await f(model, batch);
  } finally {
    tf.dispose([batch.inputs, batch.targets]);
    model.dispose();
  }
}

export function describeFamilyConformance(subject: FamilyConformanceSubject): void {
  describe(`model family conformance: ${subject.name}`, function () {
    this.timeout(60_000);

    it('forward equals the independent reference', () =>
      withModel(subject, (model, batch) => {
        const ours = tf.tidy(() => model.forward(batch.inputs).output.dataSync());
        const ref = subject.reference(model, batch);
        if (subject.exact) {
          assert.equal(ours.length, ref.length);
          for (let i = 0; i < ref.length; i++) assert.equal(ours[i], ref[i], `output ${i}`);
        } else {
          assertClose(ours, ref, 1e-5, 'output');
        }
      }));

    it('records each operator input as X [rows, fanIn] that the reference agrees with', () =>
      withModel(subject, (model, batch) => {
        const names = model.operators.map((o) => o.name);
        const before = tf.memory().numTensors;
        const recorded = tf.tidy(() => {
          const run = model.forward(batch.inputs, { recordInputs: new Set(names) });
          return names.map((n) => {
            const X = run.inputs.get(n);
            assert.ok(X !== undefined, `${n} recorded`);
            return { shape: X.shape, data: X.dataSync() };
          });
        });
        assert.equal(tf.memory().numTensors, before, 'recording leaks no tensors');
        names.forEach((n, i) => {
          const info = model.operators[i]!;
          const rec = recorded[i]!;
          assert.equal(rec.shape[1], info.fanIn, `${n}: X has fanIn columns`);
          if (model.isLinearInInput(n)) {
            assert.deepEqual(
              model.perturbationShape(n, batch.inputs),
              [rec.shape[0], info.units],
              `${n}: ε has X's rows`,
            );
          }
          const ref = subject.referenceInput?.(model, batch, n);
          if (ref !== undefined) assertClose(rec.data, ref, 1e-6, `${n}: X`);
        });
      }));

    it('ε-gradients equal central finite differences of the summed loss', () =>
      withModel(subject, (model, batch) => {
        const rng = new Rng(5);
        for (const info of model.operators
          .filter((o) => model.isLinearInInput(o.name))
          .slice(0, 4)) {
          const shape = model.perturbationShape(info.name, batch.inputs);
          const e = tf.tidy(() => {
            const eps = tf.zeros(shape);
            const g = tf.grad((x: tf.Tensor) => {
              const out = model.forward(batch.inputs, {
                perturb: new Map([[info.name, x]]),
              }).output;
              return tf.sum(model.task.perSampleLoss(out, batch)) as tf.Scalar;
            })(eps);
            return g.dataSync();
          });
          const scale = maxAbs(e);
          assert.ok(scale > 0, `${info.name}: the gradient is not identically zero`);
          const h = 1e-2;
          for (let t = 0; t < 4; t++) {
            const r = rng.int(shape[0]);
            const u = rng.int(shape[1]);
            const at = (d: number): number => {
              const delta = new Float32Array(shape[0] * shape[1]);
              delta[r * shape[1] + u] = d;
              const eps = tf.tensor2d(delta, shape);
              try {
                return summedLoss(model, batch, new Map([[info.name, eps]]));
              } finally {
                eps.dispose();
              }
            };
            const fd = (at(h) - at(-h)) / (2 * h);
            const got = e[r * shape[1] + u] as number;
            assert.ok(
              Math.abs(got - fd) <= 3e-2 * scale + 1e-3 * Math.abs(fd),
              `${info.name} ε[${r}, ${u}]: ${got} vs finite differences ${fd}`,
            );
          }
        }
      }));

    it('a replaced weight changes the output exactly as writing that weight does', () =>
      withModel(subject, (model, batch) => {
        const rng = new Rng(9);
        for (const info of model.operators.slice(0, 3)) {
          const w0 = model.readWeight(info.name);
          const w1 = Float32Array.from(w0, (v) => v + 0.05 * rng.normal());
          const hooked = tf.tidy(() => {
            const W = tf.tensor2d(w1, [info.fanIn, info.units]);
            return model
              .forward(batch.inputs, { weights: new Map([[info.name, W]]) })
              .output.dataSync();
          });
          model.writeWeight(info.name, w1);
          assert.deepEqual(
            model.readWeight(info.name),
            w1,
            `${info.name}: readWeight returns what was written`,
          );
          const written = tf.tidy(() => model.forward(batch.inputs).output.dataSync());
          model.writeWeight(info.name, w0);
          assertClose(hooked, written, 1e-5, `${info.name}: replaced vs written`);
          const original = tf.tidy(() => model.forward(batch.inputs).output.dataSync());
          assert.ok(
            maxAbs(original.map((v, i) => v - (written[i] as number))) > 0,
            `${info.name}: the change is visible`,
          );
        }
      }));

    it('weights and masks survive the model artifact; forward is unchanged after reload', () =>
      withModel(subject, async (model, batch) => {
        const rng = new Rng(3);
        for (const info of model.operators) {
          const mask = Uint8Array.from({ length: info.paramCount }, () =>
            rng.float() < 0.5 ? 0 : 1,
          );
          const w = model.readWeight(info.name);
          for (let j = 0; j < w.length; j++) if (mask[j] === 0) w[j] = 0;
          model.writeWeight(info.name, w);
          model.masks.set(info.name, mask);
        }
        const dir = tempDir('scalpel-family-conformance-');
        const manifest = await writeModelArtifact(dir, model, subject.families);
        const back = await readModelArtifact({ dir, manifest }, subject.families);
        try {
          assert.equal(back.family, model.family);
          assert.deepEqual(back.operators, model.operators);
          for (const info of model.operators) {
            assert.deepEqual(
              back.masks.get(info.name),
              model.masks.get(info.name),
              `${info.name}: mask`,
            );
            assert.deepEqual(
              back.readWeight(info.name),
              model.readWeight(info.name),
              `${info.name}: weights`,
            );
          }
          const a = tf.tidy(() => model.forward(batch.inputs).output.dataSync());
          const b = tf.tidy(() => back.forward(batch.inputs).output.dataSync());
          assert.deepEqual(b, a);
        } finally {
          back.dispose();
        }
      }));

    it('leaks no tensors in forward, hooked forward and gradients', () =>
      withModel(subject, (model, batch) => {
        const linear = model.operators
          .filter((o) => model.isLinearInInput(o.name))
          .map((o) => o.name);
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          model.forward(batch.inputs);
        });
        tf.tidy(() => {
          const eps = linear.map((n) => tf.zeros(model.perturbationShape(n, batch.inputs)));
          tf.grads((...xs: tf.Tensor[]) => {
            const perturb = new Map(linear.map((n, i) => [n, xs[i] as tf.Tensor]));
            const run = model.forward(batch.inputs, {
              perturb,
              recordInputs: new Set(linear),
              inputGradientsOnly: true,
            });
            return tf.sum(model.task.perSampleLoss(run.output, batch)) as tf.Scalar;
          })(eps);
        });
        tf.tidy(() => {
          model.forward(batch.inputs, { training: true, rng: new Rng(1) });
        });
        assert.equal(tf.memory().numTensors, before);
      }));
  });
}
