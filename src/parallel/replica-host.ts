// A worker thread's copies of the models it computes on (replica.ts is the run's side): loaded
// from the files the run's thread saved, their variables overwritten with each new version.
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../errors.js';
import { builtinFamilyLookup } from '../models/families.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { ReplicaSource, WeightsMessage } from './protocol.js';
import { syncedVariables } from './replica.js';

interface HostedReplica {
  readonly model: PrunableModel;
  version: number;
}

export class ReplicaHost {
  private readonly replicas = new Map<number, HostedReplica>();

  async model(source: ReplicaSource, weights: WeightsMessage | undefined): Promise<PrunableModel> {
    let r = this.replicas.get(source.id);
    if (r === undefined) {
      const model = await builtinFamilyLookup.family(source.family).load(source.modelPath);
      r = { model, version: 0 };
      this.replicas.set(source.id, r);
    }
    if (weights !== undefined && weights.version > r.version) {
      this.apply(r.model, weights);
      r.version = weights.version;
    }
    return r.model;
  }

  private apply(model: PrunableModel, weights: WeightsMessage): void {
    const vars = syncedVariables(model);
    if (vars.length !== weights.shapes.length) {
      throw new ScalpelError(
        ErrorCode.Internal,
        `model replica has ${vars.length} variables, the model ${weights.shapes.length}`,
        { hint: "a bug in the model's family: loading what it saved gives another model" },
      );
    }
    const all = new Float32Array(weights.buffer);
    let offset = 0;
    vars.forEach((v, i) => {
      const shape = weights.shapes[i] ?? [];
      const size = shape.reduce((a, b) => a * b, 1);
      if (v.shape.join() !== shape.join()) {
        throw new ScalpelError(
          ErrorCode.Internal,
          `model replica variable ${v.name} has shape [${v.shape.join(', ')}], the model's [${shape.join(', ')}]`,
          { hint: "a bug in the model's family: loading what it saved gives another model" },
        );
      }
      // A copy out of the shared buffer: the next version is a new buffer, this one may go.
      const t = tf.tensor(all.slice(offset, offset + size), [...shape], 'float32');
      v.assign(t);
      t.dispose();
      offset += size;
    });
  }

  drop(ids: readonly number[]): void {
    for (const id of ids) {
      this.replicas.get(id)?.model.dispose();
      this.replicas.delete(id);
    }
  }
}
