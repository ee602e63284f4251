// load-dataset's image options, in this order: `resize` (image-resize.ts), `pad` (to a size, or up
// to a multiple of a patch size) and `layout` (hwc / chw), on the raw values before normalisation
// — so a pad is a zero pixel, as when torchvision resizes and pads a PIL image before ToTensor +
// Normalize, and pixel data stays 8-bit. Images come from the sources as [height, width,
// channels] (row-major, channels last).
import { ErrorCode, ScalpelError } from '../errors.js';
import { type ResizeMethod, resizeImages } from './image-resize.js';
import type { PadOptions, ResizeOptions } from './options.js';

export type ChannelLayout = 'hwc' | 'chw';

export interface Padding {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

/** What load-dataset does to image samples, resolved from the recipe and the source's shape. */
export interface ImagePlan {
  /** Source image [height, width, channels]. */
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** The size after `resize` (the source size when there is none), before padding. */
  readonly resize:
    { readonly height: number; readonly width: number; readonly method: ResizeMethod } | undefined;
  readonly padding: Padding;
  /** Raw value of padded pixels. */
  readonly padValue: number;
  readonly layout: ChannelLayout;
  /** Image size after padding. */
  readonly outHeight: number;
  readonly outWidth: number;
}

function recipeError(message: string, hint: string): ScalpelError {
  return new ScalpelError(ErrorCode.RecipeSchema, `load-dataset: ${message}`, { hint });
}

/** Centred padding of size → target (the odd pixel goes to the bottom/right, as TensorFlow does). */
function split(total: number): [number, number] {
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Padding that takes a [height, width] image to `pad.to` and/or up to a multiple of `pad.multipleOf`. */
export function resolvePadding(
  height: number,
  width: number,
  pad: PadOptions,
  origin: string,
): Padding {
  if (pad.to === undefined && pad.multipleOf === undefined)
    throw recipeError(
      'pad needs `to` and/or `multipleOf`',
      'e.g. pad: { to: 32 } or pad: { multipleOf: 16 }',
    );
  let [h, w] = typeof pad.to === 'number' ? [pad.to, pad.to] : (pad.to ?? [height, width]);
  if (h < height || w < width) {
    throw new ScalpelError(
      ErrorCode.Data,
      `load-dataset: pad.to [${h}, ${w}] is smaller than the ${height}×${width} images of ${origin}`,
      {
        hint: `padding only adds pixels: use pad.to of at least [${height}, ${width}], or resize (resize: { to: … }) first`,
      },
    );
  }
  const m = pad.multipleOf;
  if (m !== undefined) {
    h = Math.ceil(h / m) * m;
    w = Math.ceil(w / m) * m;
  }
  const [top, bottom] = split(h - height);
  const [left, right] = split(w - width);
  return { top, bottom, left, right };
}

function targetSize(to: number | [number, number]): [number, number] {
  return typeof to === 'number' ? [to, to] : to;
}

/**
 * The image plan for samples of `sampleShape` (the shape the recipe asked for, before resizing
 * and padding), or undefined when the samples are not images and no image option is set.
 */
export function planImage(
  sampleShape: readonly number[],
  opts: {
    resize?: ResizeOptions | undefined;
    pad?: PadOptions | undefined;
    layout?: ChannelLayout | undefined;
  },
  origin: string,
): ImagePlan | undefined {
  const layout = opts.layout ?? 'hwc';
  if (sampleShape.length !== 3) {
    const asked = [
      opts.resize !== undefined ? 'resize' : '',
      opts.pad !== undefined ? 'pad' : '',
      layout === 'chw' ? 'layout: chw' : '',
    ].filter((s) => s !== '');
    if (asked.length === 0) return undefined;
    throw recipeError(
      `${asked.join(' and ')} need${asked.length > 1 ? '' : 's'} image samples [height, width, channels], but the samples have shape [${sampleShape.join(', ')}]`,
      'set flatten: false (image sources keep [rows, cols, 1]) or give shape: [height, width, channels]',
    );
  }
  const [height, width, channels] = sampleShape as [number, number, number];
  const resize =
    opts.resize !== undefined
      ? (() => {
          const [h, w] = targetSize(opts.resize.to);
          return { height: h, width: w, method: opts.resize.method ?? 'bilinear' };
        })()
      : undefined;
  const innerHeight = resize?.height ?? height;
  const innerWidth = resize?.width ?? width;
  const padding =
    opts.pad !== undefined
      ? resolvePadding(
          innerHeight,
          innerWidth,
          opts.pad,
          resize !== undefined ? `${origin}, resized` : origin,
        )
      : { top: 0, bottom: 0, left: 0, right: 0 };
  return {
    height,
    width,
    channels,
    resize,
    padding,
    padValue: opts.pad?.value ?? 0,
    layout,
    outHeight: innerHeight + padding.top + padding.bottom,
    outWidth: innerWidth + padding.left + padding.right,
  };
}

/** The sample shape after the plan: [h, w, c] or [c, h, w]. */
export function plannedShape(plan: ImagePlan): number[] {
  return plan.layout === 'chw'
    ? [plan.channels, plan.outHeight, plan.outWidth]
    : [plan.outHeight, plan.outWidth, plan.channels];
}

function sameKind<T extends Uint8Array | Float64Array>(like: T, n: number): T {
  return (like instanceof Uint8Array ? new Uint8Array(n) : new Float64Array(n)) as T;
}

/** `count` HWC images padded by `p` with `value` (a new array of the same type). */
export function padImages<T extends Uint8Array | Float64Array>(
  values: T,
  count: number,
  plan: Pick<ImagePlan, 'height' | 'width' | 'channels' | 'padding' | 'padValue'>,
): T {
  const { height: h, width: w, channels: c, padding: p } = plan;
  const oh = h + p.top + p.bottom;
  const ow = w + p.left + p.right;
  const out = sameKind(values, count * oh * ow * c);
  if (plan.padValue !== 0) out.fill(plan.padValue);
  const row = w * c;
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < h; y++) {
      const src = (n * h + y) * row;
      const dst = ((n * oh + y + p.top) * ow + p.left) * c;
      out.set(values.subarray(src, src + row), dst);
    }
  }
  return out;
}

/** `count` images [h, w, c] → [c, h, w] (a new array of the same type). */
export function hwcToChw<T extends Uint8Array | Float64Array>(
  values: T,
  count: number,
  h: number,
  w: number,
  c: number,
): T {
  const out = sameKind(values, values.length);
  const hw = h * w;
  for (let n = 0; n < count; n++) {
    const base = n * hw * c;
    for (let i = 0; i < hw; i++)
      for (let k = 0; k < c; k++) out[base + k * hw + i] = values[base + i * c + k] as number;
  }
  return out;
}

/** Apply the plan (resize, pad, then layout) to `count` raw HWC images. */
export function applyImagePlan<T extends Uint8Array | Float64Array>(
  values: T,
  count: number,
  plan: ImagePlan,
): T {
  const r = plan.resize;
  const resized =
    r !== undefined && (r.height !== plan.height || r.width !== plan.width)
      ? resizeImages(values, count, {
          height: plan.height,
          width: plan.width,
          channels: plan.channels,
          outHeight: r.height,
          outWidth: r.width,
          method: r.method,
        })
      : values;
  const p = plan.padding;
  const inner = { ...plan, height: r?.height ?? plan.height, width: r?.width ?? plan.width };
  const padded =
    p.top + p.bottom + p.left + p.right > 0 ? padImages(resized, count, inner) : resized;
  return plan.layout === 'chw'
    ? hwcToChw(padded, count, plan.outHeight, plan.outWidth, plan.channels)
    : padded;
}

/** The channel of value i of a sample array laid out as the plan says. */
export function channelIndexer(plan: ImagePlan | undefined): (i: number) => number {
  if (plan === undefined || plan.channels === 1) return () => 0;
  const c = plan.channels;
  const hw = plan.outHeight * plan.outWidth;
  return plan.layout === 'chw' ? (i) => Math.floor(i / hw) % c : (i) => i % c;
}
