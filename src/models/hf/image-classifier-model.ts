// A Hugging Face ViT/DeiT image classifier run by scalpel's own tfjs forward (vit.ts), as a
// PrunableModel of the classification task. The weights live in tf.Variables under their HF names
// and in HF orientation (tensors() gives back a checkpoint transformers loads); the prunable
// operators are the encoder blocks' linear projections, and optionally the patch embedding and
// the classification head(s).
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { ForwardHooks, ForwardResult, PrunableModel } from '../../plugin-api/model.js';
import { ImageClassificationTask } from '../tasks/image-classification.js';
import { checkTensors } from './checkpoint-tensors.js';
import { HfTensorModel, type Recording } from './hf-tensor-model.js';
import type { HfCheckpointSource } from './load-checkpoint.js';
import { VitArchitecture, type VitLinearSpec } from './vit.js';
import { vitSequence, type VitConfig } from './vit-config.js';

export const hfImageClassifierFamilyName = 'hf-image-classifier';

export interface HfImageClassifierOptions {
  /** Make the patch embedding (the Conv2d projection, seen as [C·P·P, H]) an operator too. */
  readonly includePatchEmbedding?: boolean;
  /** Make the classification head(s) operators too. */
  readonly includeClassifier?: boolean;
  /** Stored shapes by tensor name, when the reader knows them (catches transposed tensors). */
  readonly shapes?: ReadonlyMap<string, readonly number[]>;
  /** The checkpoint the weights came from (its config.json and dtypes are saved back). */
  readonly source?: HfCheckpointSource;
  /** config.json to save for a model without a source (trained from a recipe's config). */
  readonly configJson?: Readonly<Record<string, unknown>>;
  /** Named in data-shape errors (default: config.json). */
  readonly configFile?: string;
}

export class HfImageClassifierModel extends HfTensorModel implements PrunableModel {
  readonly family = hfImageClassifierFamilyName;
  readonly task: ImageClassificationTask;
  readonly arch: VitArchitecture;
  readonly source: HfCheckpointSource | undefined;
  readonly configJson: Readonly<Record<string, unknown>> | undefined;
  private readonly rowsOf: ReadonlyMap<string, VitLinearSpec['rows']>;

  /**
   * `weights` by HF name: a Map, or a read-on-demand map (CheckpointWeights) whose get() is called
   * once per tensor; with `options.shapes` the sizes are checked from the shapes, not the data.
   */
  constructor(
    readonly config: VitConfig,
    weights: ReadonlyMap<string, Float32Array>,
    options: HfImageClassifierOptions = {},
  ) {
    const arch = new VitArchitecture(config);
    const { layout } = arch;
    checkTensors(layout, weights, `${config.headClass}`, options.shapes);
    const specs = [
      ...(options.includePatchEmbedding === true ? [layout.patchEmbedding] : []),
      ...layout.linears,
      ...(options.includeClassifier === true ? layout.heads : []),
    ];
    super(specs);
    this.arch = arch;
    this.rowsOf = new Map(specs.map((s) => [s.name, s.rows]));
    this.source = options.source;
    this.configJson = options.configJson;
    const patchWeight = layout.patchEmbedding.weight;
    const { fanIn, units } = layout.patchEmbedding;
    // The patch weight lives as the [H, C·P·P] matrix it multiplies with (same values).
    this.takeTensors(layout.tensors, weights, undefined, (t) =>
      t.name === patchWeight ? [units, fanIn] : t.shape,
    );
    this.task = new ImageClassificationTask({
      height: config.imageHeight,
      width: config.imageWidth,
      channels: config.numChannels,
      classes: config.numLabels,
      source: options.configFile ?? 'config.json',
    });
  }

  /** The operator names the family options can add (patch embedding, heads). */
  get optionalOperators(): { patchEmbedding: string; heads: readonly string[] } {
    const { layout } = this.arch;
    return { patchEmbedding: layout.patchEmbedding.name, heads: layout.heads.map((h) => h.name) };
  }

  forward(inputs: tf.Tensor, hooks: ForwardHooks = {}): ForwardResult {
    this.checkImages(inputs);
    this.checkHookNames(hooks);
    const batch = inputs.shape[0] ?? 0;
    const recorded: Recording = { inputs: new Map(), reduced: new Map() };
    const ctx = this.context(batch, vitSequence(this.config).tokens, hooks, recorded);
    const output = this.arch.logits(ctx, inputs);
    return { output, inputs: recorded.inputs, reducedInputs: recorded.reduced };
  }

  private checkImages(inputs: tf.Tensor): void {
    const c = this.config;
    const image = [c.imageHeight, c.imageWidth, c.numChannels];
    const s = inputs.shape.slice(1);
    const fits =
      (s.length === 3 && s.every((d, i) => d === image[i])) ||
      (s.length === 1 && s[0] === c.imageHeight * c.imageWidth * c.numChannels);
    if (!fits) {
      throw new ScalpelError(
        ErrorCode.Data,
        `the ${c.headClass} takes images [batch, ${image.join(', ')}] (image_size, num_channels of its config.json), got shape [${inputs.shape.join(', ')}]`,
        { hint: 'feed batches of the classification task from a dataset of images that size' },
      );
    }
  }

  perturbationShape(name: string, inputs: tf.Tensor): [number, number] {
    const spec = this.spec(name);
    const batch = inputs.shape[0] ?? 0;
    const { patches, tokens } = vitSequence(this.config);
    const per = { patches, tokens, images: 1 }[this.rowsOf.get(name) ?? 'tokens'];
    return [batch * per, spec.units];
  }

  exactHessianUnsupported(name: string): string | undefined {
    this.spec(name);
    return `'${name}' runs through softmax attention and normalisation, which tfjs cannot differentiate twice`;
  }

  /** Copies of every tensor under its HF name and in HF orientation (a checkpoint to save). */
  tensors(): Map<string, Float32Array> {
    return this.variableCopies();
  }

  /** Every tensor's name with a function reading its values (a view: use before any tfjs op). */
  tensorReaders(): Map<string, () => Float32Array> {
    return this.variableReaders();
  }
}
