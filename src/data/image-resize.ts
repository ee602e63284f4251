// load-dataset's `resize`: HWC images to a new [height, width], before padding and normalisation.
// Sampling follows TensorFlow's tf.image.resize / PyTorch's interpolate with half-pixel centres
// (align_corners=False, no antialiasing): output pixel y samples the source at
// (y + 0.5)·(in/out) − 0.5, clamped to the image. 'bilinear' interpolates the 4 neighbours,
// 'nearest' takes floor((y + 0.5)·in/out) (PyTorch's 'nearest-exact'). 8-bit pixel data stays
// 8-bit (rounded to the nearest value, as an image library resizing a PIL/uint8 image does), so
// the dataset keeps its pixel look-up table; float data stays float.

export type ResizeMethod = 'bilinear' | 'nearest';

export interface ResizeGeometry {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly method: ResizeMethod;
}

/** Where each output coordinate samples the source along one axis. */
interface AxisTaps {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  /** Weight of `hi` (1 − weight goes to `lo`). */
  readonly frac: Float64Array;
}

function axisTaps(inSize: number, outSize: number, method: ResizeMethod): AxisTaps {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    if (method === 'nearest') {
      const i = Math.min(inSize - 1, Math.floor((o + 0.5) * scale));
      lo[o] = i;
      hi[o] = i;
      continue;
    }
    const at = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), inSize - 1);
    const floor = Math.floor(at);
    lo[o] = floor;
    hi[o] = Math.min(floor + 1, inSize - 1);
    frac[o] = at - floor;
  }
  return { lo, hi, frac };
}

function sameKind<T extends Uint8Array | Float64Array>(like: T, n: number): T {
  return (like instanceof Uint8Array ? new Uint8Array(n) : new Float64Array(n)) as T;
}

/** `count` HWC images resized as `g` says (a new array of the same type). */
export function resizeImages<T extends Uint8Array | Float64Array>(
  values: T,
  count: number,
  g: ResizeGeometry,
): T {
  const { height: h, width: w, channels: c, outHeight: oh, outWidth: ow } = g;
  const rows = axisTaps(h, oh, g.method);
  const cols = axisTaps(w, ow, g.method);
  const out = sameKind(values, count * oh * ow * c);
  const round = values instanceof Uint8Array;
  for (let n = 0; n < count; n++) {
    const src = n * h * w * c;
    let dst = n * oh * ow * c;
    for (let y = 0; y < oh; y++) {
      const top = src + (rows.lo[y] as number) * w * c;
      const bottom = src + (rows.hi[y] as number) * w * c;
      const fy = rows.frac[y] as number;
      for (let x = 0; x < ow; x++) {
        const left = (cols.lo[x] as number) * c;
        const right = (cols.hi[x] as number) * c;
        const fx = cols.frac[x] as number;
        for (let k = 0; k < c; k++) {
          const tl = values[top + left + k] as number;
          const tr = values[top + right + k] as number;
          const bl = values[bottom + left + k] as number;
          const br = values[bottom + right + k] as number;
          const upper = tl + (tr - tl) * fx;
          const lower = bl + (br - bl) * fx;
          const v = upper + (lower - upper) * fy;
          out[dst++] = round ? Math.round(v) : v;
        }
      }
    }
  }
  return out;
}
