// A tfjs LayersModel (Sequential or functional DAG) as a PrunableModel: operators from
// operators.ts, the forward of graph-forward.ts, and the classification task.
import * as tf from '@tensorflow/tfjs-core';
import { tensorFilledInPlace } from '../tensor-storage.js';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { Mask, PrunableLayerInfo } from '../../plugin-api/layers.js';
import type { ForwardHooks, ForwardResult, PrunableModel } from '../../plugin-api/model.js';
import { ClassificationTask } from '../tasks/classification.js';
import type { OutputKind } from '../loss.js';
import { GraphForward } from './graph-forward.js';
import type { ConvPath } from './linear-ops.js';
import { kernelOf, listOperators, type Layer } from './operators.js';

export const tfjsLayersFamilyName = 'tfjs-layers';

/** 'probabilities' when the model's output layer applies softmax, else 'logits'. */
function outputKindOf(layer: Layer): OutputKind {
  return (layer.getConfig() as { activation?: unknown }).activation === 'softmax'
    ? 'probabilities'
    : 'logits';
}

export class TfjsLayersModel implements PrunableModel {
  readonly family = tfjsLayersFamilyName;
  readonly task: ClassificationTask;
  readonly operators: readonly PrunableLayerInfo[];
  readonly masks = new Map<string, Mask>();
  private readonly graph: GraphForward;
  private readonly byName: Map<string, { layer: Layer; info: PrunableLayerInfo }>;

  /** `convPath`: see GraphForward (the default is the fast one). */
  constructor(
    readonly layersModel: tfl.LayersModel,
    convPath: ConvPath = 'native',
  ) {
    this.graph = new GraphForward(layersModel, convPath);
    this.operators = listOperators(layersModel);
    const layers = new Map(layersModel.layers.map((l) => [l.name, l]));
    this.byName = new Map(
      this.operators.map((info) => [info.name, { layer: layers.get(info.name) as Layer, info }]),
    );
    const out = layersModel.outputs[0]?.shape;
    const classes = out?.[out.length - 1];
    this.task = new ClassificationTask({
      inputShape: layersModel.inputs[0]?.shape.slice(1) ?? [],
      classes: typeof classes === 'number' ? classes : undefined,
      outputKind: outputKindOf(this.graph.outputLayer),
    });
  }

  private operator(name: string): { layer: Layer; info: PrunableLayerInfo } {
    const found = this.byName.get(name);
    if (found === undefined) {
      throw new ScalpelError(ErrorCode.Data, `the model has no prunable layer '${name}'`, {
        layer: name,
        hint: `prunable layers: ${this.operators.map((o) => o.name).join(', ') || 'none'}; masks from another model do not fit this one`,
      });
    }
    return found;
  }

  weightVariable(name: string): tf.Variable {
    const v = kernelOf(this.operator(name).layer);
    if (v === undefined)
      throw new ScalpelError(ErrorCode.Data, `layer '${name}' has no kernel`, { layer: name });
    return v.read() as tf.Variable;
  }

  weightLayout(): 'same' {
    return 'same';
  }

  readWeight(name: string): Float32Array {
    return Float32Array.from(this.weightVariable(name).dataSync() as Float32Array);
  }

  writeWeight(name: string, data: Float32Array): void {
    const v = this.weightVariable(name);
    if (data.length !== v.size) {
      throw new ScalpelError(
        ErrorCode.Internal,
        `kernel of '${name}' needs ${v.size} values, got ${data.length}`,
        { layer: name },
      );
    }
    // A copy (the caller keeps `data`, may reuse it): the cpu backend would adopt the array.
    const t = tensorFilledInPlace(v.shape, (dst) => dst.set(data));
    v.assign(t);
    t.dispose();
  }

  trainableVariables(): tf.Variable[] {
    return this.layersModel.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  forward(inputs: tf.Tensor, hooks?: ForwardHooks): ForwardResult {
    return this.graph.run(inputs, hooks);
  }

  perturbationShape(name: string, inputs: tf.Tensor): [number, number] {
    const { layer, info } = this.operator(name);
    if (info.kind === 'depthwiseConv2d') {
      throw new ScalpelError(
        ErrorCode.Internal,
        `layer '${name}': depthwise convolutions take no ε (not linear in their input matrix)`,
        { layer: name },
      );
    }
    const shape = layer.outputShape;
    if (!Array.isArray(shape) || Array.isArray(shape[0])) {
      throw new ScalpelError(ErrorCode.Data, `layer '${name}' has several outputs`, {
        layer: name,
      });
    }
    const inner = (shape as (number | null)[]).slice(1, -1);
    if (inner.some((d) => d === null)) {
      throw new ScalpelError(
        ErrorCode.Data,
        `layer '${name}' has an output shape with unknown dimensions (${JSON.stringify(shape)})`,
        { layer: name },
      );
    }
    return [(inputs.shape[0] ?? 0) * (inner as number[]).reduce((a, b) => a * b, 1), info.units];
  }

  isLinearInInput(name: string): boolean {
    return this.operator(name).info.kind !== 'depthwiseConv2d';
  }

  exactHessianUnsupported(name: string): string | undefined {
    return this.graph.exactHessianUnsupported(name);
  }

  parameterCounts(): { total: number; nonZero: number } {
    let total = 0;
    let nonZero = 0;
    for (const w of this.layersModel.weights) {
      const values = w.read().dataSync();
      total += values.length;
      for (let i = 0; i < values.length; i++) if (values[i] !== 0) nonZero++;
    }
    return { total, nonZero };
  }

  countParams(): number {
    return this.layersModel.countParams();
  }

  dispose(): void {
    try {
      this.layersModel.dispose();
    } catch {
      // Already disposed: nothing left to free.
    }
  }
}
