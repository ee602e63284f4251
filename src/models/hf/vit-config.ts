// A Hugging Face config.json of a vision transformer image classifier (ViTForImageClassification,
// DeiTForImageClassification, DeiTForImageClassificationWithTeacher), parsed and validated with
// transformers' ViTConfig/DeiTConfig defaults: every field our forward (vit.ts) depends on, and an
// E_DATA naming the file and the field for anything that would make it compute something other
// than transformers' (another head, activation, loss, non-divisible patches).
import { ConfigFields, type Json } from './config-fields.js';

export type VitModelType = 'vit' | 'deit';

/** The transformers class whose head the checkpoint has. */
export type VitHeadClass =
  | 'ViTForImageClassification'
  | 'DeiTForImageClassification'
  | 'DeiTForImageClassificationWithTeacher';

export type VitActivation = 'gelu' | 'gelu_new';

export interface VitConfig {
  readonly modelType: VitModelType;
  readonly headClass: VitHeadClass;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly intermediateSize: number;
  /** gelu: exact (erf); gelu_new (and gelu_pytorch_tanh): the tanh approximation. */
  readonly hiddenAct: VitActivation;
  readonly layerNormEps: number;
  readonly imageHeight: number;
  readonly imageWidth: number;
  readonly patchSize: number;
  readonly numChannels: number;
  readonly qkvBias: boolean;
  readonly numLabels: number;
  /** id2label in label order, when the config names the labels. */
  readonly labels: readonly string[] | undefined;
  /** Dropout rates, active only in training passes. */
  readonly hiddenDropout: number;
  readonly attentionDropout: number;
  readonly initializerRange: number;
}

/** Patches per image, and the tokens the encoder sees (class token, DeiT's distillation token). */
export function vitSequence(c: VitConfig): {
  gridH: number;
  gridW: number;
  patches: number;
  tokens: number;
} {
  const gridH = c.imageHeight / c.patchSize;
  const gridW = c.imageWidth / c.patchSize;
  const patches = gridH * gridW;
  return { gridH, gridW, patches, tokens: patches + (c.modelType === 'deit' ? 2 : 1) };
}

const headClasses: Record<VitModelType, readonly VitHeadClass[]> = {
  vit: ['ViTForImageClassification'],
  deit: ['DeiTForImageClassification', 'DeiTForImageClassificationWithTeacher'],
};

const supported =
  'supported: model_type vit (ViTForImageClassification) and deit (DeiTForImageClassification, DeiTForImageClassificationWithTeacher)';

/** Whether a parsed config.json describes a ViT/DeiT model (what the family recognizes). */
export function isVitConfigJson(json: Json): boolean {
  if (json.model_type === 'vit' || json.model_type === 'deit') return true;
  const archs = Array.isArray(json.architectures) ? json.architectures : [];
  return archs.some((a) => typeof a === 'string' && /^(ViT|DeiT)For/.test(a));
}

function modelTypeOf(f: ConfigFields, json: Json): VitModelType {
  const type = json.model_type;
  if (type === 'vit' || type === 'deit') return type;
  const archs = Array.isArray(json.architectures) ? json.architectures : [];
  if (type === undefined && archs.includes('ViTForImageClassification')) return 'vit';
  if (type === undefined && archs.some((a) => headClasses.deit.includes(a as VitHeadClass)))
    return 'deit';
  return f.fail(
    `model_type ${JSON.stringify(type)} / architectures ${JSON.stringify(json.architectures)} is not an image classifier scalpel can run`,
    supported,
  );
}

/**
 * The head: config.json's `architectures` when it names one, else (a hand-written config) the
 * one the checkpoint's tensors show (`cls_classifier.weight`: with teacher), else the plain head.
 */
function headClassOf(
  f: ConfigFields,
  json: Json,
  type: VitModelType,
  names: ReadonlySet<string> | undefined,
): VitHeadClass {
  const archs = Array.isArray(json.architectures) ? json.architectures : [];
  const known = headClasses[type];
  if (archs.length > 0) {
    const found = known.find((k) => archs.includes(k));
    if (found === undefined) {
      f.fail(
        `architectures ${JSON.stringify(archs)} has no image classification head of model_type '${type}'`,
        `scalpel runs ${known.join(', ')}; save the classifier (not the bare model or another head)`,
      );
    }
    return found;
  }
  if (type === 'deit' && names?.has('cls_classifier.weight') === true)
    return 'DeiTForImageClassificationWithTeacher';
  return known[0] as VitHeadClass;
}

/** image_size / patch_size: an int, or a [height, width] pair. */
function pair(f: ConfigFields, json: Json, key: string, fallback: number): [number, number] {
  const v = json[key] ?? fallback;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0;
  if (ok(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
  return f.fail(
    `'${key}' must be a positive integer or [height, width], got ${JSON.stringify(v)}`,
    'fix config.json',
  );
}

function activationOf(f: ConfigFields, json: Json): VitActivation {
  const act = json.hidden_act ?? 'gelu';
  if (act === 'gelu') return 'gelu';
  if (act === 'gelu_new' || act === 'gelu_pytorch_tanh') return 'gelu_new';
  return f.fail(
    `hidden_act ${JSON.stringify(act)} is not supported`,
    "supported: 'gelu' (exact, erf) and 'gelu_new' / 'gelu_pytorch_tanh' (tanh approximation)",
  );
}

/** id2label as labels in order, checked to be 0 … n−1. */
function labelsOf(f: ConfigFields, json: Json): string[] | undefined {
  const map = json.id2label;
  if (map === undefined || map === null) return undefined;
  if (typeof map !== 'object' || Array.isArray(map))
    f.fail(`'id2label' must be an object, got ${JSON.stringify(map)}`, 'fix config.json');
  const entries = Object.entries(map as Json);
  const labels: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const name = (map as Json)[String(i)];
    if (typeof name !== 'string') {
      f.fail(
        `'id2label' must map every id 0 … ${entries.length - 1} to a name; id ${i} is ${JSON.stringify(name)}`,
        'fix config.json',
      );
    }
    labels.push(name);
  }
  return labels;
}

function numLabelsOf(f: ConfigFields, json: Json, labels: readonly string[] | undefined): number {
  const n = f.int('num_labels', labels?.length ?? 2);
  if (labels !== undefined && labels.length !== n) {
    f.fail(
      `'num_labels' ${n} disagrees with the ${labels.length} entries of 'id2label'`,
      'fix config.json',
    );
  }
  if (n < 2) {
    f.fail(
      `num_labels ${n}: transformers treats one output as regression`,
      'scalpel runs single-label classification: use num_labels ≥ 2',
    );
  }
  const problem = json.problem_type;
  if (problem !== undefined && problem !== null && problem !== 'single_label_classification') {
    f.fail(
      `problem_type ${JSON.stringify(problem)} is not supported`,
      "scalpel trains and evaluates with cross-entropy: use 'single_label_classification'",
    );
  }
  return n;
}

/**
 * The config of a ViT/DeiT image classifier; `file` is named in errors. `names` (the checkpoint's
 * tensor names) decide the DeiT head when config.json has no `architectures`.
 */
export function parseVitConfig(
  json: unknown,
  file = 'config.json',
  names?: ReadonlySet<string>,
): VitConfig {
  const { fields: f, json: obj } = ConfigFields.of(json, file);
  const modelType = modelTypeOf(f, obj);
  const headClass = headClassOf(f, obj, modelType, names);
  const hiddenSize = f.int('hidden_size', 768);
  const numHeads = f.int('num_attention_heads', 12);
  if (hiddenSize % numHeads !== 0) {
    f.fail(
      `hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`,
      'fix config.json',
    );
  }
  const [imageHeight, imageWidth] = pair(f, obj, 'image_size', 224);
  const [patchH, patchW] = pair(f, obj, 'patch_size', 16);
  if (patchH !== patchW)
    f.fail(`non-square patch_size [${patchH}, ${patchW}] is not supported`, 'use square patches');
  if (imageHeight % patchH !== 0 || imageWidth % patchH !== 0) {
    f.fail(
      `image_size ${imageHeight}×${imageWidth} is not a multiple of patch_size ${patchH}`,
      'use an image_size divisible by patch_size (pad or resize the images to fit)',
    );
  }
  const labels = labelsOf(f, obj);
  return {
    modelType,
    headClass,
    hiddenSize,
    numLayers: f.int('num_hidden_layers', 12),
    numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: f.int('intermediate_size', 3072),
    hiddenAct: activationOf(f, obj),
    layerNormEps: f.positive('layer_norm_eps', 1e-12),
    imageHeight,
    imageWidth,
    patchSize: patchH,
    numChannels: f.int('num_channels', 3),
    qkvBias: f.bool('qkv_bias', true),
    numLabels: numLabelsOf(f, obj, labels),
    labels,
    hiddenDropout: f.rate('hidden_dropout_prob'),
    attentionDropout: f.rate('attention_probs_dropout_prob'),
    initializerRange: f.positive('initializer_range', 0.02),
  };
}

/** config.json for a model built from a parsed config (trained from scratch): what parses back to it. */
export function vitConfigJson(c: VitConfig): Record<string, unknown> {
  const labels = c.labels ?? Array.from({ length: c.numLabels }, (_, i) => `LABEL_${i}`);
  return {
    model_type: c.modelType,
    architectures: [c.headClass],
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    intermediate_size: c.intermediateSize,
    hidden_act: c.hiddenAct,
    layer_norm_eps: c.layerNormEps,
    image_size: c.imageHeight === c.imageWidth ? c.imageHeight : [c.imageHeight, c.imageWidth],
    patch_size: c.patchSize,
    num_channels: c.numChannels,
    qkv_bias: c.qkvBias,
    hidden_dropout_prob: c.hiddenDropout,
    attention_probs_dropout_prob: c.attentionDropout,
    initializer_range: c.initializerRange,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
  };
}
