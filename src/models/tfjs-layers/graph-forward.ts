// The one forward runner of the tfjs-layers family: walks a LayersModel's graph (Sequential or
// functional: residual adds, concatenations, branches that merge) node by node in topological
// order and applies each layer to its inbound tensors. Layers run their own `apply` unless a hook
// or a missing backend gradient asks for more (linear-ops.ts), so a pass without hooks equals
// `model.predict` bit for bit. Dropout noise comes from the caller's Rng, not Math.random.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { ForwardHooks, ForwardResult } from '../../plugin-api/model.js';
import type { PrunableLayerInfo } from '../../plugin-api/layers.js';
import { inputMatrix, runDepthwise, runLinear, type ConvPath } from './linear-ops.js';
import { operatorInfo, type Layer } from './operators.js';

interface Step {
  readonly layer: Layer;
  readonly info: PrunableLayerInfo | undefined;
  /** Ids of the symbolic tensors this node consumes / produces. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

/** Layers whose training-mode noise tfjs draws from Math.random: not reproducible. */
const unseededNoise = new Set([
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'SpatialDropout1D',
]);

/** Layers through which exact second derivatives are available (piecewise linear). */
const piecewiseLinear = new Set([
  'Dropout',
  'Flatten',
  'Reshape',
  'Add',
  'Concatenate',
  'InputLayer',
]);

/** Why the model cannot be run by this family (multi-input/-output, shared prunable layers), or undefined. */
export function unsupportedGraph(
  model: tfl.LayersModel,
): { message: string; layer?: string } | undefined {
  if (model.inputs.length !== 1) {
    return {
      message: `the model has ${model.inputs.length} inputs; scalpel runs models with one input`,
    };
  }
  if (model.outputs.length !== 1) {
    const names = model.outputs.map((o) => o.sourceLayer.name);
    return {
      message: `the model branches into ${model.outputs.length} outputs (${names.join(', ')}); scalpel runs models with one output`,
      layer: names[1] as string,
    };
  }
  return undefined;
}

export class GraphForward {
  private readonly steps: Step[] = [];
  private readonly inputId: number;
  private readonly outputId: number;
  readonly outputLayer: Layer;
  private readonly gradientKernelsMissing: { conv: boolean; depthwise: boolean };

  /** `convPath` 'im2col' runs hooked convolutions the former way (benchmarks, tests compare). */
  constructor(
    model: tfl.LayersModel,
    private readonly convPath: ConvPath = 'native',
  ) {
    const problem = unsupportedGraph(model);
    if (problem !== undefined) {
      throw new ScalpelError(ErrorCode.Data, problem.message, {
        ...(problem.layer !== undefined ? { layer: problem.layer } : {}),
        hint: 'export a model with a single input and a single output (a classifier head)',
      });
    }
    this.inputId = (model.inputs[0] as tfl.SymbolicTensor).id;
    const output = model.outputs[0] as tfl.SymbolicTensor;
    this.outputId = output.id;
    this.outputLayer = output.sourceLayer;
    // A Sequential builds its inner graph (nodesByDepth) lazily, on first predict or build().
    if (
      Object.keys(model.nodesByDepth ?? {}).length === 0 &&
      model.getClassName() === 'Sequential'
    ) {
      (model as tfl.Sequential).build();
    }
    const uses = new Map<Layer, number>();
    // Deeper nodes are closer to the inputs: run depth by depth from the deepest.
    const depths = Object.keys(model.nodesByDepth)
      .map(Number)
      .sort((a, b) => b - a);
    for (const depth of depths) {
      for (const node of model.nodesByDepth[depth] ?? []) {
        const layer = node.outboundLayer;
        if (layer.getClassName() === 'InputLayer') continue;
        const info = operatorInfo(layer);
        uses.set(layer, (uses.get(layer) ?? 0) + 1);
        if (info !== undefined && (uses.get(layer) ?? 0) > 1) {
          throw new ScalpelError(
            ErrorCode.Data,
            `prunable layer '${layer.name}' is applied more than once in the model (shared weights)`,
            {
              layer: layer.name,
              hint: 'scalpel prunes layers that are called once; give each call its own layer',
            },
          );
        }
        this.steps.push({
          layer,
          info,
          inputs: node.inputTensors.map((t) => t.id),
          outputs: node.outputTensors.map((t) => t.id),
        });
      }
    }
    this.gradientKernelsMissing = {
      conv: tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined,
      depthwise:
        tf.getKernel('DepthwiseConv2dNativeBackpropFilter', tf.getBackend()) === undefined ||
        tf.getKernel('DepthwiseConv2dNativeBackpropInput', tf.getBackend()) === undefined,
    };
  }

  /** Layers in execution order. */
  layers(): Layer[] {
    return this.steps.map((s) => s.layer);
  }

  /** Run on `x`. Not wrapped in tf.tidy: call inside tidy / a gradient function. */
  run(x: tf.Tensor, hooks: ForwardHooks = {}): ForwardResult {
    const values = new Map<number, tf.Tensor>([[this.inputId, x]]);
    const recorded = new Map<string, tf.Tensor>();
    const training = hooks.training === true;
    const gradients =
      training ||
      hooks.weightGradients === true ||
      hooks.inputGradientsOnly === true ||
      hooks.weights !== undefined ||
      hooks.perturb !== undefined;
    for (const step of this.steps) {
      const args = step.inputs.map((id) => {
        const v = values.get(id);
        if (v === undefined)
          throw new ScalpelError(
            ErrorCode.Internal,
            `layer '${step.layer.name}' runs before its input`,
            { layer: step.layer.name },
          );
        return v;
      });
      const input = args[0] as tf.Tensor;
      const out = this.runStep(step, args, input, hooks, recorded, training, gradients);
      const outs = Array.isArray(out) ? out : [out];
      step.outputs.forEach((id, i) => values.set(id, outs[i] as tf.Tensor));
    }
    const output = values.get(this.outputId);
    if (output === undefined)
      throw new ScalpelError(ErrorCode.Internal, 'the model output was not computed');
    return { output, inputs: recorded };
  }

  private runStep(
    step: Step,
    args: tf.Tensor[],
    input: tf.Tensor,
    hooks: ForwardHooks,
    recorded: Map<string, tf.Tensor>,
    training: boolean,
    gradients: boolean,
  ): tf.Tensor | tf.Tensor[] {
    const { layer, info } = step;
    const cls = layer.getClassName();
    if (cls === 'Dropout') {
      const rate = (layer.getConfig() as { rate: number }).rate;
      // A fresh seed per call: tfjs' dropout with a fixed seed would reuse one mask forever.
      return training && rate > 0
        ? tf.dropout(input, rate, undefined, hooks.rng?.nextUint32())
        : input;
    }
    if (training && unseededNoise.has(cls)) {
      throw new ScalpelError(
        ErrorCode.Stage,
        `layer '${layer.name}' (${cls}) draws unseeded noise in training; scalpel cannot train it reproducibly`,
        {
          layer: layer.name,
          hint: 'replace it with Dropout, or remove it before training',
        },
      );
    }
    const skipActivation = hooks.logits === true && layer === this.outputLayer;
    if (skipActivation && cls === 'Activation') {
      const act = (layer.getConfig() as { activation?: unknown }).activation;
      if (act === 'softmax') return input;
    }
    if (info === undefined)
      return layer.apply(args.length === 1 ? input : args, { training }) as tf.Tensor | tf.Tensor[];

    const name = info.name;
    let X: tf.Tensor2D | undefined;
    if (hooks.recordInputs?.has(name) === true) {
      X = inputMatrix(layer, info, input);
      recorded.set(name, X);
    }
    const weight = hooks.weights?.get(name);
    const epsilon = hooks.perturb?.get(name);
    const softmaxHead =
      skipActivation && (layer.getConfig() as { activation?: unknown }).activation === 'softmax';
    const explicit =
      weight !== undefined ||
      epsilon !== undefined ||
      softmaxHead ||
      (info.kind === 'dense' && hooks.inputGradientsOnly === true) ||
      (gradients &&
        (info.kind === 'conv2d' || info.kind === 'conv1d') &&
        this.gradientKernelsMissing.conv) ||
      (gradients && info.kind === 'depthwiseConv2d' && this.gradientKernelsMissing.depthwise);
    // Unhooked layers run their own code: bit-identical to model.predict.
    if (!explicit) return layer.apply(input, { training }) as tf.Tensor;
    const options = {
      ...(X !== undefined ? { X } : {}),
      ...(weight !== undefined ? { weight } : {}),
      ...(epsilon !== undefined ? { epsilon } : {}),
      inputGradientsOnly: hooks.inputGradientsOnly === true,
      skipActivation: softmaxHead,
      convPath: this.convPath,
    };
    return info.kind === 'depthwiseConv2d'
      ? runDepthwise(layer, info, input, options)
      : runLinear(layer, info, input, options);
  }

  /**
   * Why exact second derivatives w.r.t. `name`'s kernel are unavailable, or undefined: every layer
   * from `name` on must be piecewise linear (Dense/Conv with relu/linear, softmax only at the
   * output, dropout/flatten/reshape/add/concatenate), since tfjs cannot differentiate twice through
   * ops that save their outputs (twice-differentiable.ts).
   */
  exactHessianUnsupported(name: string): string | undefined {
    const start = this.steps.findIndex((s) => s.layer.name === name);
    const first = this.steps[start];
    if (first === undefined || first.info?.kind !== 'dense')
      return `'${name}' is not a Dense layer of the model`;
    for (let i = start; i < this.steps.length; i++) {
      const { layer } = this.steps[i] as Step;
      const cls = layer.getClassName();
      const act = (layer.getConfig() as { activation?: unknown }).activation;
      const isOutput = layer === this.outputLayer;
      const ok =
        piecewiseLinear.has(cls) ||
        ((cls === 'Dense' || cls === 'Activation') &&
          (act === 'relu' || act === 'linear' || (act === 'softmax' && isOutput)));
      if (!ok)
        return `layer '${layer.name}' (${cls}${typeof act === 'string' ? `, ${act}` : ''}) after '${name}' is not piecewise linear`;
    }
    return undefined;
  }
}
