// How raw feature values become the numbers a model sees. 8-bit pixel sources go through a
// 256-entry lookup table (x = lut[pixel]) so the dataset artifact can store the pixels (1 byte each)
// and rebuild bit-identical float32 features when it is read; other sources are transformed once.
import { ErrorCode, ScalpelError } from '../errors.js';

/** The recipe's normalisation, resolved: exactly one of these applies. */
export type FeatureTransform =
  | { readonly kind: 'none' }
  /** x · factor */
  | { readonly kind: 'scale'; readonly factor: number }
  /** (x/255 − mean)/std for pixels (ToTensor + Normalize), (x − mean)/std for other features. */
  | { readonly kind: 'normalize'; readonly mean: number; readonly std: number }
  /** Per channel c of an image: (x/255 − mean[c])/std[c] for pixels, (x − mean[c])/std[c] otherwise. */
  | {
      readonly kind: 'normalize-channels';
      readonly mean: readonly number[];
      readonly std: readonly number[];
    };

export const noTransform: FeatureTransform = { kind: 'none' };

/** Per-channel values as an array (one number stands for every channel). */
function channelValues(v: number | readonly number[]): readonly number[] {
  return typeof v === 'number' ? [v] : v;
}

/**
 * Resolve the recipe options `normalize` and `scale` (giving both is an error). Per-channel
 * lists of length 1, or with one value repeated, are the plain (scalar) normalisation.
 */
export function resolveTransform(opts: {
  normalize?: { mean: number | readonly number[]; std: number | readonly number[] } | undefined;
  scale?: number | undefined;
}): FeatureTransform {
  if (opts.normalize !== undefined && opts.scale !== undefined) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      'load-dataset: give either `normalize` or `scale`, not both',
      {
        hint: 'normalize: { mean, std } already scales pixels to [0, 1] before normalising',
      },
    );
  }
  if (opts.normalize !== undefined) {
    const mean = channelValues(opts.normalize.mean);
    const std = channelValues(opts.normalize.std);
    if (!mean.every(Number.isFinite) || !std.every((s) => Number.isFinite(s) && s > 0)) {
      throw new ScalpelError(
        ErrorCode.RecipeSchema,
        `load-dataset: normalize needs finite means and positive stds, got mean ${JSON.stringify(opts.normalize.mean)}, std ${JSON.stringify(opts.normalize.std)}`,
      );
    }
    const channels = Math.max(mean.length, std.length);
    if (
      (mean.length !== 1 && mean.length !== channels) ||
      (std.length !== 1 && std.length !== channels)
    ) {
      throw new ScalpelError(
        ErrorCode.RecipeSchema,
        `load-dataset: normalize gives ${mean.length} means and ${std.length} stds`,
        { hint: 'give one number for all channels, or one per channel in both lists' },
      );
    }
    const m = Array.from({ length: channels }, (_, c) => mean[mean.length === 1 ? 0 : c] as number);
    const s = Array.from({ length: channels }, (_, c) => std[std.length === 1 ? 0 : c] as number);
    if (m.every((v) => v === m[0]) && s.every((v) => v === s[0]))
      return { kind: 'normalize', mean: m[0] as number, std: s[0] as number };
    return { kind: 'normalize-channels', mean: m, std: s };
  }
  if (opts.scale !== undefined) {
    if (!Number.isFinite(opts.scale)) {
      throw new ScalpelError(
        ErrorCode.RecipeSchema,
        `load-dataset: scale must be a finite number, got ${opts.scale}`,
      );
    }
    return { kind: 'scale', factor: opts.scale };
  }
  return noTransform;
}

/** Number of channels a transform distinguishes (1 unless per-channel). */
export function transformChannels(t: FeatureTransform): number {
  return t.kind === 'normalize-channels' ? t.mean.length : 1;
}

/**
 * The transform of one value of channel `channel`, in float64 (the caller rounds to float32 when
 * storing).
 */
export function transformValue(
  v: number,
  t: FeatureTransform,
  pixels: boolean,
  channel = 0,
): number {
  switch (t.kind) {
    case 'none':
      return v;
    case 'scale':
      return v * t.factor;
    case 'normalize':
      return ((pixels ? v / 255 : v) - t.mean) / t.std;
    case 'normalize-channels':
      return ((pixels ? v / 255 : v) - (t.mean[channel] as number)) / (t.std[channel] as number);
  }
}

/** The 256-entry table mapping an 8-bit pixel (of `channel`) to its float32 feature value. */
export function pixelLut(t: FeatureTransform, channel = 0): Float32Array {
  const lut = new Float32Array(256);
  for (let p = 0; p < 256; p++) lut[p] = transformValue(p, t, true, channel);
  return lut;
}

/** x[i] = lut[pixels[i]] into a new (or the given) Float32Array. */
export function decodePixels(
  pixels: Uint8Array,
  lut: Float32Array,
  out: Float32Array = new Float32Array(pixels.length),
): Float32Array {
  if (lut.length !== 256)
    throw new RangeError(`pixel lookup table needs 256 entries, got ${lut.length}`);
  if (out.length !== pixels.length)
    throw new RangeError(`output holds ${out.length} values, pixels ${pixels.length}`);
  // Copy the float bits as int32: exact, and faster than going through float conversion.
  const o = new Int32Array(out.buffer, out.byteOffset, out.length);
  const l = new Int32Array(lut.buffer, lut.byteOffset, 256);
  const n = pixels.length;
  for (let i = 0; i < n; i++) o[i] = l[pixels[i] as number] as number;
  return out;
}

/**
 * Transform real-valued features (non-pixel sources) into float32; `channelOf(i)` gives the
 * channel of value i for per-channel normalisation.
 */
export function transformFeatures(
  values: Float64Array | Float32Array,
  t: FeatureTransform,
  channelOf: (i: number) => number = () => 0,
): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++)
    out[i] = transformValue(values[i] as number, t, false, channelOf(i));
  return out;
}

/** Human-readable form for meta.json and metrics. */
export function describeTransform(t: FeatureTransform, pixels: boolean): string {
  switch (t.kind) {
    case 'none':
      return 'none';
    case 'scale':
      return `x * ${t.factor}`;
    case 'normalize':
      return pixels ? `(x/255 - ${t.mean}) / ${t.std}` : `(x - ${t.mean}) / ${t.std}`;
    case 'normalize-channels': {
      const m = `[${t.mean.join(', ')}]`;
      const s = `[${t.std.join(', ')}]`;
      return pixels ? `(x/255 - ${m}[c]) / ${s}[c]` : `(x - ${m}[c]) / ${s}[c]`;
    }
  }
}
