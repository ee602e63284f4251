// The steps every source shares, from validated raw records to the Dataset stages use:
// optional seeded shuffle → first N per split → sample shape → image pad and layout
// (image-preprocess.ts) → normalisation.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Rng } from '../util/rng.js';
import type { PixelSplit } from './dataset-artifact.js';
import {
  decodePixels,
  describeTransform,
  pixelLut,
  resolveTransform,
  transformChannels,
  transformFeatures,
  transformValue,
  type FeatureTransform,
} from './feature-transform.js';
import {
  applyImagePlan,
  channelIndexer,
  planImage,
  plannedShape,
  type ImagePlan,
} from './image-preprocess.js';
import type { LoadDatasetOptions } from './options.js';
import type { RawDataset, RawSplit } from './sources/types.js';
import type { Dataset, DatasetSplit, ImageInfo } from './types.js';

export interface PreparedDataset {
  dataset: Dataset;
  transform: FeatureTransform;
  /** Valid records per split before the subset was taken. */
  available: Record<string, number>;
}

/** The sample shape the recipe asks for, checked against what the source holds. */
export function resolveSampleShape(
  raw: RawDataset,
  opts: Pick<LoadDatasetOptions, 'shape' | 'flatten'>,
): number[] {
  if (opts.shape === undefined) return opts.flatten ? [raw.sampleSize] : [...raw.nativeShape];
  const shape = opts.shape;
  const size = shape.reduce((a, b) => a * b, 1);
  const native = raw.nativeShape;
  const sameImageDims =
    shape.length < 2 || native.length < 2 || (shape[0] === native[0] && shape[1] === native[1]);
  if (size !== raw.sampleSize || !sameImageDims) {
    throw new ScalpelError(
      ErrorCode.Data,
      `the recipe asks for samples of shape [${shape.join(', ')}] (${size} values) but ${raw.origin} holds samples of shape [${native.join(', ')}] (${raw.sampleSize} values)`,
      {
        hint: `use shape: [${native.join(', ')}] or flatten: true, or check that these are the files you meant`,
      },
    );
  }
  return [...shape];
}

function requestedCount(opts: LoadDatasetOptions, split: string): number | undefined {
  return split === 'train' ? opts.train : split === 'test' ? opts.test : undefined;
}

/** Values, labels and ids of the records at `order` (undefined order: the first n, copied in one go). */
function gather(
  raw: RawSplit,
  n: number,
  order: Int32Array | undefined,
  sampleSize: number,
): Pick<RawSplit, 'values' | 'labels' | 'ids'> {
  if (order === undefined) {
    return {
      values: raw.values.slice(0, n * sampleSize),
      labels: raw.labels.slice(0, n),
      ids: raw.ids.slice(0, n),
    };
  }
  const values =
    raw.values instanceof Uint8Array
      ? new Uint8Array(n * sampleSize)
      : new Float64Array(n * sampleSize);
  const labels = new Int32Array(n);
  const ids = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k] as number;
    values.set(raw.values.subarray(i * sampleSize, (i + 1) * sampleSize), k * sampleSize);
    labels[k] = raw.labels[i] as number;
    ids[k] = raw.ids[i] as number;
  }
  return { values, labels, ids };
}

/** Pixels through one lookup table per channel (per-channel normalisation: no single table). */
function decodeChannels(
  pixels: Uint8Array,
  transform: FeatureTransform,
  channelOf: (i: number) => number,
): Float32Array {
  const luts = Array.from({ length: transformChannels(transform) }, (_, c) =>
    pixelLut(transform, c),
  );
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++)
    x[i] = (luts[channelOf(i)] as Float32Array)[pixels[i] as number] as number;
  return x;
}

function buildSplit(
  raw: RawSplit,
  n: number,
  order: Int32Array | undefined,
  sampleShape: number[],
  sampleSize: number,
  transform: FeatureTransform,
  plan: ImagePlan | undefined,
): DatasetSplit {
  const gathered = gather(raw, n, order, sampleSize);
  const { labels: y, ids } = gathered;
  const values = plan !== undefined ? applyImagePlan(gathered.values, n, plan) : gathered.values;
  const common = { name: raw.name, count: n, sampleShape, y, ids };
  const channelOf = channelIndexer(plan);
  if (values instanceof Uint8Array) {
    if (transform.kind === 'normalize-channels')
      return { ...common, x: decodeChannels(values, transform, channelOf) };
    const lut = pixelLut(transform);
    const split: PixelSplit = { ...common, x: decodePixels(values, lut), pixels: values, lut };
    return split;
  }
  return { ...common, x: transformFeatures(values, transform, channelOf) };
}

/** The dataset's image record (meta.json `image`): geometry, padding and the padding's feature value. */
function imageInfo(plan: ImagePlan, transform: FeatureTransform, pixels: boolean): ImageInfo {
  return {
    layout: plan.layout,
    height: plan.outHeight,
    width: plan.outWidth,
    channels: plan.channels,
    sourceHeight: plan.height,
    sourceWidth: plan.width,
    ...(plan.resize !== undefined ? { resize: { ...plan.resize } } : {}),
    padding: { ...plan.padding },
    fill: Array.from({ length: plan.channels }, (_, c) =>
      Math.fround(
        transformValue(
          plan.padValue,
          transform,
          pixels,
          transform.kind === 'normalize-channels' ? c : 0,
        ),
      ),
    ),
    normalization: describeTransform(transform, pixels),
  };
}

/** Per-channel normalisation needs image samples with that many channels. */
function checkChannels(
  transform: FeatureTransform,
  plan: ImagePlan | undefined,
  shape: number[],
): void {
  if (transform.kind !== 'normalize-channels') return;
  const want = transformChannels(transform);
  if (plan?.channels === want) return;
  throw new ScalpelError(
    ErrorCode.RecipeSchema,
    plan === undefined
      ? `load-dataset: normalize gives ${want} per-channel values, but the samples of shape [${shape.join(', ')}] are not images`
      : `load-dataset: normalize gives ${want} per-channel values, but the images have ${plan.channels} channel${plan.channels === 1 ? '' : 's'}`,
    {
      hint:
        plan === undefined
          ? 'set flatten: false (or shape: [height, width, channels]), or give one mean and one std'
          : `give ${plan.channels} means and stds, or one of each`,
    },
  );
}

export function prepareDataset(
  raw: RawDataset,
  opts: LoadDatasetOptions,
  rng: Rng,
): PreparedDataset {
  const transform = resolveTransform(opts);
  const sourceShape = resolveSampleShape(raw, opts);
  const plan = planImage(sourceShape, opts, raw.origin);
  checkChannels(transform, plan, sourceShape);
  const sampleShape = plan !== undefined ? plannedShape(plan) : sourceShape;
  const names = new Set(raw.splits.map((s) => s.name));
  for (const name of ['train', 'test'] as const) {
    if (requestedCount(opts, name) !== undefined && !names.has(name)) {
      throw new ScalpelError(
        ErrorCode.RecipeSchema,
        `load-dataset: \`${name}\` asks for a subset of the '${name}' split, but the dataset has none`,
        {
          hint: `splits: ${[...names].join(', ')}`,
        },
      );
    }
  }
  for (const s of raw.splits) {
    const want = requestedCount(opts, s.name);
    if (want !== undefined && want > s.count) {
      throw new ScalpelError(
        ErrorCode.Data,
        `load-dataset: \`${s.name}: ${want}\` asks for more samples than the '${s.name}' split holds (${s.count} valid records)`,
        {
          hint: `use ${s.name}: ${s.count} or less (or omit it to take them all)`,
        },
      );
    }
  }
  const splits = new Map<string, DatasetSplit>();
  const available: Record<string, number> = {};
  let maxLabel = -1;
  for (const s of raw.splits) {
    available[s.name] = s.count;
    // Shuffle: the first n of a permutation drawn from a generator forked per split name, so the
    // order of one split does not depend on the other splits.
    const order = opts.shuffle ? rng.fork(`shuffle/${s.name}`).permutation(s.count) : undefined;
    const split = buildSplit(
      s,
      requestedCount(opts, s.name) ?? s.count,
      order,
      sampleShape,
      raw.sampleSize,
      transform,
      plan,
    );
    for (const c of split.y) if (c > maxLabel) maxLabel = c;
    splits.set(s.name, split);
  }
  const numClasses = raw.numClasses ?? maxLabel + 1;
  const classNames = raw.classNames;
  if (classNames !== undefined && classNames.length !== numClasses) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `load-dataset: \`classes\` names ${classNames.length} classes, the dataset has ${numClasses}`,
      {
        hint: 'give one name per class, in class-index order',
      },
    );
  }
  return {
    dataset: {
      source: raw.source,
      numClasses,
      ...(classNames !== undefined ? { classNames } : {}),
      splits,
      ...(plan !== undefined ? { image: imageInfo(plan, transform, raw.pixels) } : {}),
    },
    transform,
    available,
  };
}
