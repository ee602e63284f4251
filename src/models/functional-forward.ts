// A forward pass of a sequential (single-chain) LayersModel run layer by layer with tf ops, so
// that per-sample gradients can hook into it: Dense layers are computed here from their own
// variables (z = a·W + b, then the activation) with two optional hooks — a tensor ε added to the
// pre-activation output z, and a replacement kernel — and every other layer runs through its own
// `apply` in inference mode (dropout off). The result equals `model.predict` (tested bit for bit).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type Layer = tfl.LayersModel['layers'][number];

export interface ForwardHooks {
  /** Added to the pre-activation output z of these Dense layers (same shape as z). */
  readonly perturb?: ReadonlyMap<string, tf.Tensor>;
  /** Used instead of these Dense layers' own kernels ([in, out]). */
  readonly kernels?: ReadonlyMap<string, tf.Tensor>;
  /** Record the input of these layers (returned in `inputs`; the caller disposes them). */
  readonly recordInputs?: ReadonlySet<string>;
  /** Return logits: skip a softmax applied by the last Dense layer. */
  readonly headLogits?: boolean;
  /**
   * Gradients flow to layer INPUTS only (for the ε pass of per-sample gradients): every Dense
   * layer then propagates dy·Wᵀ with an explicitly transposed kernel — tfjs-wasm's matMul is many
   * times slower with a transpose flag, which its own MatMul gradient uses. Kernels and biases
   * get no gradient through such a pass.
   */
  readonly inputGradientsOnly?: boolean;
}

/** a·W (+ bias) whose gradient w.r.t. `a` is dy·Wᵀ with Wᵀ materialised; W and bias are constants. */
function matMulInputGrad(
  a: tf.Tensor2D,
  kernel: tf.Tensor2D,
  bias: tf.Tensor | undefined,
): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    return {
      value: tf.fused.matMul({ a: x, b: kernel, ...(bias !== undefined ? { bias } : {}) }),
      gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, tf.transpose(kernel)),
    };
  });
  return op(a) as tf.Tensor2D;
}

export interface ForwardResult {
  readonly output: tf.Tensor;
  /** Inputs of the layers named in `recordInputs`. */
  readonly inputs: Map<string, tf.Tensor>;
}

interface DenseParts {
  readonly kernel: tf.Tensor;
  readonly bias: tf.Tensor | undefined;
  /** The layer's activation as a standalone tfjs Activation layer (the same function). */
  readonly activation: Layer | undefined;
  readonly activationName: string;
  /** Whether tfjs-layers' Dense fuses the bias into the matMul (relu, linear, elu). */
  readonly fusedBias: boolean;
}

function denseParts(layer: Layer): DenseParts {
  const kernel = layer.weights.find((w) => /kernel/.test(w.originalName));
  const bias = layer.weights.find((w) => /bias/.test(w.originalName));
  if (kernel === undefined) throw new Error(`Dense layer '${layer.name}' has no kernel variable`);
  const config = layer.getConfig() as { activation?: unknown };
  const name = typeof config.activation === 'string' ? config.activation : 'linear';
  return {
    kernel: kernel.read(),
    bias: bias?.read(),
    activationName: name,
    fusedBias: name === 'relu' || name === 'linear' || name === 'elu',
    activation:
      name === 'linear'
        ? undefined
        : (tfl.layers.activation({ activation: name as 'relu' }) as unknown as Layer),
  };
}

/** The layers of `model` as one chain (input layer excluded), or undefined if it is not a chain. */
export function sequentialChain(model: tfl.LayersModel): Layer[] | undefined {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return undefined;
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  let prev: Layer | undefined;
  for (const layer of layers) {
    // Shared layers (several inbound nodes) or merges (several inbound layers) are not a chain.
    if (layer.inboundNodes.length !== 1) return undefined;
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    if (inbound.length !== 1) return undefined;
    const source = inbound[0];
    if (prev === undefined ? source?.getClassName() !== 'InputLayer' : source !== prev)
      return undefined;
    prev = layer;
  }
  const last = layers[layers.length - 1];
  if (last === undefined || model.outputs[0]?.sourceLayer !== last) return undefined;
  return layers;
}

/** Functional forward pass over a chain model. Build once per model; `run` is cheap. */
export class ChainForward {
  readonly layers: readonly Layer[];
  private readonly dense = new Map<string, DenseParts>();

  private constructor(layers: Layer[]) {
    this.layers = layers;
    for (const layer of layers) {
      if (layer.getClassName() === 'Dense') this.dense.set(layer.name, denseParts(layer));
    }
  }

  /** A ChainForward for `model`, or undefined when the model is not a single chain of layers. */
  static of(model: tfl.LayersModel): ChainForward | undefined {
    const chain = sequentialChain(model);
    return chain === undefined ? undefined : new ChainForward(chain);
  }

  /**
   * Why exact second derivatives w.r.t. `name`'s kernel are not available through this chain, or
   * undefined when they are: every layer from `name` on must be piecewise linear (Dense with
   * relu/linear, softmax only on the last layer, dropout/flatten/reshape), since tfjs cannot
   * differentiate twice through ops that save their outputs (see twice-differentiable.ts).
   */
  exactUnsupportedReason(name: string): string | undefined {
    const start = this.layers.findIndex((l) => l.name === name);
    if (start < 0 || !this.dense.has(name))
      return `'${name}' is not a Dense layer of a sequential model`;
    for (let i = start; i < this.layers.length; i++) {
      const layer = this.layers[i] as Layer;
      const cls = layer.getClassName();
      const act = (layer.getConfig() as { activation?: unknown }).activation;
      const lastLayer = i === this.layers.length - 1;
      const ok =
        ['Dropout', 'Flatten', 'Reshape'].includes(cls) ||
        ((cls === 'Dense' || cls === 'Activation') &&
          (act === 'relu' ||
            act === 'linear' ||
            (act === 'softmax' && lastLayer && cls === 'Dense')));
      if (!ok)
        return `layer '${layer.name}' (${cls}${typeof act === 'string' ? `, ${act}` : ''}) after '${name}' is not piecewise linear`;
    }
    return undefined;
  }

  /** True when `name` is a Dense layer of the chain (hooks apply to those only). */
  isDense(name: string): boolean {
    return this.dense.has(name);
  }

  /**
   * Run the chain on `x`. Not wrapped in tf.tidy: call it inside tf.tidy / tf.grads. Recorded
   * inputs are the very tensors fed to the layers (kept alive by the caller's tidy return).
   */
  run(x: tf.Tensor, hooks: ForwardHooks = {}): ForwardResult {
    const inputs = new Map<string, tf.Tensor>();
    let h = x;
    const last = this.layers[this.layers.length - 1];
    for (const layer of this.layers) {
      if (hooks.recordInputs?.has(layer.name) === true) inputs.set(layer.name, h);
      let parts = this.dense.get(layer.name);
      if (
        parts !== undefined &&
        layer === last &&
        hooks.headLogits === true &&
        parts.activationName === 'softmax'
      ) {
        parts = { ...parts, activation: undefined };
      }
      const hooked =
        hooks.inputGradientsOnly === true ||
        hooks.perturb?.has(layer.name) === true ||
        hooks.kernels?.has(layer.name) === true ||
        (layer === last && hooks.headLogits === true);
      // Unhooked layers run their own code: bit-identical to model.predict.
      h =
        parts !== undefined && hooked
          ? this.runDense(layer.name, parts, h, hooks)
          : (layer.apply(h, { training: false }) as tf.Tensor);
    }
    return { output: h, inputs };
  }

  private runDense(name: string, parts: DenseParts, a: tf.Tensor, hooks: ForwardHooks): tf.Tensor {
    const kernel = hooks.kernels?.get(name) ?? parts.kernel;
    const inDim = kernel.shape[0] ?? 0;
    const outDim = kernel.shape[1] ?? 0;
    // Same arithmetic as tfjs-layers' Dense (K.dot): rank > 2 inputs are flattened to rows.
    const rows = a.rank === 2 ? (a as tf.Tensor2D) : (tf.reshape(a, [-1, inDim]) as tf.Tensor2D);
    // Activations tfjs-layers fuses get the bias fused too (as Dense does); others add it after.
    const fusedBias = parts.bias !== undefined && parts.fusedBias ? parts.bias : undefined;
    let z: tf.Tensor =
      hooks.inputGradientsOnly === true
        ? matMulInputGrad(rows, kernel as tf.Tensor2D, fusedBias)
        : tf.fused.matMul({
            a: rows,
            b: kernel as tf.Tensor2D,
            ...(fusedBias !== undefined ? { bias: fusedBias } : {}),
          });
    if (parts.bias !== undefined && !parts.fusedBias)
      z = tf.add(z, tf.reshape(parts.bias, [1, outDim]));
    if (a.rank !== 2) z = tf.reshape(z, [...a.shape.slice(0, -1), outDim]);
    const eps = hooks.perturb?.get(name);
    if (eps !== undefined) z = tf.add(z, eps);
    return parts.activation === undefined ? z : (parts.activation.apply(z) as tf.Tensor);
  }
}
