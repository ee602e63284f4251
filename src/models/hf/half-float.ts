// IEEE half precision (F16) and bfloat16 (BF16) <-> float32, the two 16-bit float formats
// Hugging Face checkpoints are stored in. Written here rather than taken from a package so the
// rounding (nearest, ties to even — what PyTorch's `.to(torch.float16/bfloat16)` does) is known.

/** Every F16 bit pattern decoded once: all 65536 values are exact in float32. */
let f16Table: Float32Array | undefined;

function buildF16Table(): Float32Array {
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exp = (bits >>> 10) & 0x1f;
    const mant = bits & 0x3ff;
    let value: number;
    if (exp === 0)
      value = mant * 2 ** -24; // zero and subnormals
    else if (exp === 31) value = mant === 0 ? Infinity : NaN;
    else value = (1 + mant / 1024) * 2 ** (exp - 15);
    table[bits] = sign * value;
  }
  return table;
}

/** The float value of a 16-bit F16 pattern. */
export function f16BitsToF32(bits: number): number {
  f16Table ??= buildF16Table();
  return f16Table[bits & 0xffff] as number;
}

/** The value of a 16-bit BF16 pattern: it is the top half of a float32. */
export function bf16BitsToF32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0] as number;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The bits of float32 `u` (given as its bit pattern) rounded to F16, nearest-even. */
function f32BitsToF16(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0); // inf, NaN
  const e = exp - 127 + 15; // the F16 exponent field, before rounding
  if (e >= 31) return sign | 0x7c00; // too large: infinity
  if (e >= 1) {
    // normal: keep 10 mantissa bits, round on the 13 dropped; a carry moves into the exponent
    let half = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
    return sign | half;
  }
  if (e < -10) return sign; // below half the smallest subnormal: signed zero
  // subnormal: the implicit leading 1 becomes explicit and the mantissa shifts right
  const full = mant | 0x800000;
  const shift = 14 - e;
  let half = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
  return sign | half;
}

/** The bits of float32 `u` (given as its bit pattern) rounded to BF16, nearest-even. */
function f32BitsToBf16(u: number): number {
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff; // a carry past the max gives inf
}

/** The F16 bit pattern nearest to `x` (as a float32). */
export function f32ToF16Bits(x: number): number {
  scratchF32[0] = x;
  return f32BitsToF16(scratchU32[0] as number);
}

/** The BF16 bit pattern nearest to `x` (as a float32). */
export function f32ToBf16Bits(x: number): number {
  scratchF32[0] = x;
  return f32BitsToBf16(scratchU32[0] as number);
}

/** Decode F16 patterns to float32. */
export function decodeF16(bits: Uint16Array): Float32Array {
  f16Table ??= buildF16Table();
  const table = f16Table;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i] as number] as number;
  return out;
}

/** Decode BF16 patterns to float32 (exact: a shift into the top half). */
export function decodeBf16(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = (bits[i] as number) << 16;
  return new Float32Array(out.buffer);
}

/** Encode float32 values as F16 patterns, nearest-even. */
export function encodeF16(values: Float32Array): Uint16Array {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < u.length; i++) out[i] = f32BitsToF16(u[i] as number);
  return out;
}

/** Encode float32 values as BF16 patterns, nearest-even. */
export function encodeBf16(values: Float32Array): Uint16Array {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < u.length; i++) out[i] = f32BitsToBf16(u[i] as number);
  return out;
}
