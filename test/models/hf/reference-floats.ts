// Independent reference conversions for the F16/BF16 tests, computed from values rather than bit
// tricks: decode from the IEEE formula in float64, encode by searching for the nearest
// representable value (ties to the even pattern), so they share no code or method with
// src/models/hf/half-float.ts.

/** The value of an F16 pattern, from sign × 2^(e−15) × 1.m (or the subnormal/special rules). */
export function f16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 31;
  const m = bits & 1023;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  if (e === 0) return sign * (m / 1024) * Math.pow(2, -14);
  return sign * (1 + m / 1024) * Math.pow(2, e - 15);
}

/** Non-negative finite F16 values in pattern order (which is increasing order), plus 2^16 for inf. */
const f16Ladder: number[] = (() => {
  const v: number[] = [];
  for (let b = 0; b <= 0x7bff; b++) v.push(f16Value(b));
  v.push(65536); // where the next step up would be: rounding to it means overflow to infinity
  return v;
})();

/** The F16 pattern nearest to `x`, ties to the even pattern, found by binary search. */
export function nearestF16(x: number): number {
  if (Number.isNaN(x)) throw new Error('nearestF16: NaN has no nearest value');
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65536) return sign | 0x7c00;
  let lo = 0;
  let hi = f16Ladder.length - 1; // invariant: ladder[lo] <= a < ladder[hi] or a == ladder[lo]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((f16Ladder[mid] as number) <= a) lo = mid;
    else hi = mid;
  }
  const dLo = a - (f16Ladder[lo] as number);
  const dHi = (f16Ladder[hi] as number) - a;
  const pick = dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi;
  return sign | pick; // index hi = 0x7c00 is the infinity pattern
}

function f32FromBits(bits: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, bits >>> 0);
  return dv.getFloat32(0);
}

function f32Bits(x: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, x);
  return dv.getUint32(0);
}

/** The value of a BF16 pattern: those 16 bits followed by 16 zero bits, read as a float32. */
export function bf16Value(bits: number): number {
  return f32FromBits(bits << 16);
}

/** The BF16 pattern nearest to float32 `x`: the truncation or the next pattern up, ties to even. */
export function nearestBf16(x: number): number {
  if (Number.isNaN(x)) throw new Error('nearestBf16: NaN has no nearest value');
  const bits = f32Bits(x);
  const sign = bits & 0x80000000 ? 0x8000 : 0;
  const magnitude = bits & 0x7fffffff;
  if (magnitude === 0x7f800000) return sign | 0x7f80;
  const lo = magnitude >>> 16; // truncation toward zero
  const hi = lo + 1;
  const a = Math.abs(x);
  const loValue = bf16Value(lo);
  const hiValue = hi === 0x7f80 ? Math.pow(2, 128) : bf16Value(hi);
  const dLo = a - loValue;
  const dHi = hiValue - a;
  const pick = dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi;
  return sign | pick;
}
