// Seeded data augmentation of training batches (the train/finetune `augment` option): random crop
// with padding (pad every side by p with the padding pixel, cut a random window of the original
// size — torchvision's RandomCrop(size, padding=p)) and horizontal flip (with probability ½). Per
// sample, in batch order, the crop offsets and then the flip are drawn from the augmenter's Rng,
// so the same seed gives the same batches. Done on the float32 features (copies; the split is
// never changed) by index arithmetic: a shifted row copy per image row, or a reversed one.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Rng } from '../util/rng.js';
import { isPixelSplit } from './dataset-artifact.js';
import type { Dataset, DatasetSplit, ImageInfo } from './types.js';
import type { Samples } from '../plugin-api/dataset.js';

/** The `augment` of a train/finetune stage (schemas/stages/train.schema.json). */
export interface AugmentOptions {
  /** Shift by up to `padding` pixels each way, the uncovered border filled with the padding pixel. */
  randomCrop?: { padding: number };
  /** Mirror left ↔ right with probability ½. */
  horizontalFlip?: boolean;
}

/** Training-batch augmentation as the loops take it: the ops and the images' layout. */
export interface TrainingAugment {
  readonly options: AugmentOptions;
  readonly image: ImageInfo;
}

/** One sample's draw: the crop window's offset from the centre (dy, dx ∈ [−p, p]) and the flip. */
export interface AugmentDraw {
  dy: number;
  dx: number;
  flip: boolean;
}

/**
 * out = crop-and-flip of one image `src` (layout and size of `image`): out(y, x) = src(y + dy,
 * x' + dx) with x' = W − 1 − x when flipped, else x; the padding pixel outside the image.
 */
export function augmentImage(
  src: Float32Array,
  out: Float32Array,
  image: Pick<ImageInfo, 'layout' | 'height' | 'width' | 'channels' | 'fill'>,
  draw: AugmentDraw,
): void {
  const { height: h, width: w, channels: c } = image;
  // An image as `c` planes (chw) or one plane of c-wide pixels (hwc): the same row loop serves both.
  const planes = image.layout === 'chw' ? c : 1;
  const px = image.layout === 'chw' ? 1 : c;
  const plane = h * w * px;
  for (let k = 0; k < planes; k++) {
    for (let y = 0; y < h; y++) {
      const sy = y + draw.dy;
      const row = k * plane + y * w * px;
      if (sy < 0 || sy >= h) {
        for (let x = 0; x < w * px; x++)
          out[row + x] = image.fill[planes > 1 ? k : x % c] as number;
        continue;
      }
      const srcRow = k * plane + sy * w * px;
      for (let x = 0; x < w; x++) {
        const sx = (draw.flip ? w - 1 - x : x) + draw.dx;
        for (let j = 0; j < px; j++) {
          out[row + x * px + j] =
            sx < 0 || sx >= w
              ? (image.fill[planes > 1 ? k : j] as number)
              : (src[srcRow + sx * px + j] as number);
        }
      }
    }
  }
}

/** Draws per-sample augmentations from its Rng and applies them to gathered batches. */
export class BatchAugmenter {
  private readonly size: number;

  constructor(
    readonly options: AugmentOptions,
    readonly image: ImageInfo,
    /** The augmentation stream (a training checkpoint records its position). */
    readonly rng: Rng,
  ) {
    this.size = image.height * image.width * image.channels;
  }

  /** The next sample's draw (crop offsets first, then the flip; only for the enabled ops). */
  draw(): AugmentDraw {
    const p = this.options.randomCrop?.padding ?? 0;
    const dy = p > 0 ? this.rng.int(2 * p + 1) - p : 0;
    const dx = p > 0 ? this.rng.int(2 * p + 1) - p : 0;
    const flip = this.options.horizontalFlip === true && this.rng.int(2) === 1;
    return { dy, dx, flip };
  }

  /** Copies of the samples at `rows`, each augmented with a fresh draw. */
  gather(samples: Samples, rows: ArrayLike<number>): Samples {
    const n = rows.length;
    const size = this.size;
    const x = new Float32Array(n * size);
    const y = new Int32Array(n);
    const ids = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const i = rows[k] as number;
      if (!(Number.isInteger(i) && i >= 0 && i < samples.count))
        throw new RangeError(`sample index ${i} is outside the ${samples.count} samples`);
      augmentImage(
        samples.x.subarray(i * size, (i + 1) * size),
        x.subarray(k * size, (k + 1) * size),
        this.image,
        this.draw(),
      );
      y[k] = samples.y[i] as number;
      ids[k] = samples.ids[i] as number;
    }
    return { count: n, sampleShape: samples.sampleShape, x, y, ids };
  }
}

/**
 * The image record of a dataset whose samples are images. Artifacts written before load-dataset
 * recorded it: a 3-D sample shape is read as [h, w, c], padded with a zero pixel (pixel data) or 0.
 */
export function imageOf(dataset: Dataset, split: DatasetSplit): ImageInfo | undefined {
  if (dataset.image !== undefined) return dataset.image;
  if (split.sampleShape.length !== 3) return undefined;
  const [height, width, channels] = split.sampleShape as [number, number, number];
  const fill = isPixelSplit(split) ? (split.lut[0] as number) : 0;
  return {
    layout: 'hwc',
    height,
    width,
    channels,
    sourceHeight: height,
    sourceWidth: width,
    padding: { top: 0, bottom: 0, left: 0, right: 0 },
    fill: new Array<number>(channels).fill(fill),
    normalization: 'unknown',
  };
}

/** The image record augmentation works with, or a clear error when the samples are not images. */
export function augmentableImage(dataset: Dataset, split: DatasetSplit, where: string): ImageInfo {
  const image = imageOf(dataset, split);
  const shape = split.sampleShape;
  const expected =
    image === undefined
      ? undefined
      : image.layout === 'chw'
        ? [image.channels, image.height, image.width]
        : [image.height, image.width, image.channels];
  if (image === undefined || expected?.join() !== shape.join()) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `${where}: augment crops and flips images, but the samples of split '${split.name}' have shape [${shape.join(', ')}]${shape.length === 1 ? ' (flattened)' : ''}`,
      {
        hint: 'load the dataset with flatten: false (images [height, width, channels]; a model for flat vectors can start with a flatten layer), or remove augment',
      },
    );
  }
  return image;
}
