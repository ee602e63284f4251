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
  | { readonly kind: 'normalize'; readonly mean: number; readonly std: number };

export const noTransform: FeatureTransform = { kind: 'none' };

/** Resolve the recipe options `normalize` and `scale` (giving both is an error). */
export function resolveTransform(opts: {
  normalize?: { mean: number; std: number } | undefined;
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
    const { mean, std } = opts.normalize;
    if (!Number.isFinite(mean) || !Number.isFinite(std) || std <= 0) {
      throw new ScalpelError(
        ErrorCode.RecipeSchema,
        `load-dataset: normalize needs a finite mean and a positive std, got mean ${mean}, std ${std}`,
      );
    }
    return { kind: 'normalize', mean, std };
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

/** The transform of one value, in float64 (the caller rounds to float32 when storing). */
export function transformValue(v: number, t: FeatureTransform, pixels: boolean): number {
  switch (t.kind) {
    case 'none':
      return v;
    case 'scale':
      return v * t.factor;
    case 'normalize':
      return ((pixels ? v / 255 : v) - t.mean) / t.std;
  }
}

/** The 256-entry table mapping an 8-bit pixel to its float32 feature value. */
export function pixelLut(t: FeatureTransform): Float32Array {
  const lut = new Float32Array(256);
  for (let p = 0; p < 256; p++) lut[p] = transformValue(p, t, true);
  return lut;
}

/** x[i] = lut[pixels[i]] into a new (or the given) Float32Array. */
export function decodePixels(
  pixels: Uint8Array,
  lut: Float32Array,
  out = new Float32Array(pixels.length),
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

/** Transform real-valued features (non-pixel sources) into float32. */
export function transformFeatures(
  values: Float64Array | Float32Array,
  t: FeatureTransform,
): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = transformValue(values[i] as number, t, false);
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
  }
}
