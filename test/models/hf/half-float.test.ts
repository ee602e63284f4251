// F16/BF16 conversions against known IEEE bit patterns and against the value-based reference
// in reference-floats.ts (nearest representable value by search, ties to even).
import { strict as assert } from 'node:assert';
import {
  bf16BitsToF32,
  decodeBf16,
  decodeF16,
  encodeBf16,
  encodeF16,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
} from '../../../src/models/hf/half-float.js';
import { Rng } from '../../../src/util/rng.js';
import { bf16Value, f16Value, nearestBf16, nearestF16 } from './reference-floats.js';

const hex = (n: number): string => '0x' + n.toString(16).padStart(4, '0');

/** Float32 values whose bits are uniformly random (every exponent, subnormals, NaNs). */
function randomFloat32(rng: Rng, n: number): Float32Array {
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = rng.nextUint32();
  return new Float32Array(bits.buffer);
}

describe('half-precision conversions', () => {
  it('maps the textbook F16 patterns both ways', () => {
    const known: [number, number][] = [
      [1, 0x3c00],
      [65504, 0x7bff],
      [2 ** -24, 0x0001],
      [-0, 0x8000],
      [0, 0x0000],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [-2, 0xc000],
      [2 ** -14, 0x0400], // smallest normal
      [1023 * 2 ** -24, 0x03ff], // largest subnormal
      [0.333251953125, 0x3555],
      [0.5, 0x3800],
    ];
    for (const [value, bits] of known) {
      assert.equal(f32ToF16Bits(value), bits, `${value} -> ${hex(bits)}`);
      assert.ok(Object.is(f16BitsToF32(bits), value), `${hex(bits)} -> ${value}`);
    }
    assert.ok(Number.isNaN(f16BitsToF32(0x7e00)));
    assert.ok(Number.isNaN(f16BitsToF32(0xfc01)));
    const nan = f32ToF16Bits(NaN);
    assert.equal(nan & 0x7c00, 0x7c00);
    assert.notEqual(nan & 0x3ff, 0, 'NaN stays NaN, not infinity');
  });

  it('rounds to nearest, ties to even, at the edges of the F16 range', () => {
    const cases: [number, number][] = [
      [65519, 0x7bff], // below the midpoint to 2^16: the largest finite
      [65520, 0x7c00], // the midpoint: ties to the even pattern, infinity
      [1e6, 0x7c00],
      [1 + 2 ** -11, 0x3c00], // tie between 0x3c00 and 0x3c01: even
      [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02: even
      [2 ** -25, 0x0000], // half the smallest subnormal: tie to zero
      [Math.fround(2 ** -25 * 1.0001), 0x0001],
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal units
      [2 ** -26, 0x0000],
      [-(2 ** -26), 0x8000],
      [1023.5 * 2 ** -24, 0x0400], // rounds up from the largest subnormal into the normals
    ];
    for (const [value, bits] of cases) {
      assert.equal(f32ToF16Bits(value), bits, `${value} -> ${hex(bits)}`);
    }
  });

  it('decodes all 65536 F16 patterns as the IEEE formula does', () => {
    const all = new Uint16Array(65536);
    for (let b = 0; b < 65536; b++) all[b] = b;
    const decoded = decodeF16(all);
    for (let b = 0; b < 65536; b++) {
      const want = f16Value(b);
      if (Number.isNaN(want)) assert.ok(Number.isNaN(decoded[b]), hex(b));
      else assert.ok(Object.is(decoded[b], want), `${hex(b)}: ${decoded[b]} vs ${want}`);
    }
  });

  it('encodes to the nearest F16 (ties to even) for random, midpoint and boundary floats', () => {
    const rng = new Rng(7);
    const values: number[] = Array.from(randomFloat32(rng, 20000));
    for (let i = 0; i < 5000; i++) values.push(Math.fround(rng.normal() * 2 ** (rng.int(50) - 30)));
    // exact midpoints between neighbouring F16 values, and one float32 step either side
    for (let b = 0; b < 0x7bff; b += 7) {
      const mid = Math.fround((f16Value(b) + f16Value(b + 1)) / 2);
      const f = new Float32Array([mid]);
      const u = new Uint32Array(f.buffer);
      values.push(mid, -mid);
      u[0] = (u[0] as number) + 1;
      values.push(f[0] as number);
      u[0] = (u[0] as number) - 2;
      values.push(f[0] as number);
    }
    const data = Float32Array.from(values);
    const encoded = encodeF16(data);
    for (let i = 0; i < data.length; i++) {
      const x = data[i] as number;
      if (Number.isNaN(x)) {
        assert.equal((encoded[i] as number) & 0x7c00, 0x7c00);
        assert.notEqual((encoded[i] as number) & 0x3ff, 0);
        continue;
      }
      assert.equal(encoded[i], nearestF16(x), `F16 of ${x}`);
    }
  });

  it('maps BF16 patterns both ways and rounds to nearest even', () => {
    const known: [number, number][] = [
      [1, 0x3f80],
      [-2, 0xc000],
      [-0, 0x8000],
      [Infinity, 0x7f80],
      [-3.140625, 0xc049],
      [3.4028234663852886e38, 0x7f80], // the float32 maximum rounds up to infinity
      [1 + 2 ** -8, 0x3f80], // tie: even
      [1 + 3 * 2 ** -8, 0x3f82], // tie: even
    ];
    for (const [value, bits] of known) assert.equal(f32ToBf16Bits(value), bits, `${value}`);
    assert.ok(Object.is(bf16BitsToF32(0x8000), -0));
    assert.equal(bf16BitsToF32(0xc049), -3.140625);
    assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN))));
    // a NaN whose payload lives only in the low 16 bits must not become infinity
    const nan = new Float32Array(new Uint32Array([0x7f800001]).buffer)[0] as number;
    assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(nan))));

    const rng = new Rng(11);
    const data = randomFloat32(rng, 30000);
    const encoded = encodeBf16(data);
    const decoded = decodeBf16(encoded);
    for (let i = 0; i < data.length; i++) {
      const x = data[i] as number;
      if (Number.isNaN(x)) {
        assert.ok(Number.isNaN(decoded[i]));
        continue;
      }
      const want = nearestBf16(x);
      assert.equal(encoded[i], want, `BF16 of ${x}`);
      assert.ok(Object.is(decoded[i], bf16Value(want)));
    }
  });

  it('reads the source values through subarrays without touching other elements', () => {
    const whole = Float32Array.from([9, 1, 2, 9]);
    assert.deepEqual(Array.from(encodeF16(whole.subarray(1, 3))), [0x3c00, 0x4000]);
    assert.deepEqual(Array.from(encodeBf16(whole.subarray(1, 3))), [0x3f80, 0x4000]);
  });
});
