// The safetensors reader on files assembled by hand from the format description, every kind of
// corruption, lazy per-tensor reads; the writer's exact byte layout and its F32/F16/BF16 round
// trips checked against the value-based reference conversions.
import { strict as assert } from 'node:assert';
import {
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import { isScalpelError } from '../../../src/errors.js';
import { openSafetensors, writeSafetensors } from '../../../src/models/hf/safetensors.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/paths.js';
import { bf16Value, f16Value, nearestBf16, nearestF16 } from './reference-floats.js';
import {
  assemble,
  concat,
  disassemble,
  f32Bytes,
  f64Bytes,
  i64Bytes,
  u16Bytes,
} from './safetensors-bytes.js';

/** Assert that `p` rejects with a ScalpelError of `code` whose message matches every pattern. */
async function rejects(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isScalpelError(e), `not a ScalpelError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

/** A file with tensors in neither name nor alignment order, every float dtype, a scalar, an empty tensor. */
function handMadeFile(): Uint8Array {
  const header =
    '{"c":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},' +
    '"__metadata__":{"format":"pt","note":"hand made"},' +
    '"b.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[14,38]},' +
    '"a.bias":{"dtype":"F16","shape":[4],"data_offsets":[6,14]},' +
    '"z":{"dtype":"F32","shape":[0,3],"data_offsets":[42,42]},' +
    '"s":{"dtype":"F32","shape":[],"data_offsets":[38,42]},' +
    '"d.ids":{"dtype":"I64","shape":[2],"data_offsets":[58,74]},' +
    '"e":{"dtype":"F64","shape":[2],"data_offsets":[42,58]}}' +
    '     '; // padding, as writers align the data
  const data = concat([
    u16Bytes([0x3f80, 0xc049, 0x7f80]), // BF16: 1, -3.140625, inf
    u16Bytes([0x3c00, 0x7bff, 0x0001, 0xc000]), // F16: 1, 65504, 2^-24, -2
    f32Bytes([1, -2, 0.5, 3.25, -0, 1e-3]),
    f32Bytes([42]),
    f64Bytes([0.1, -1e300]),
    i64Bytes([7n, -1n]),
  ]);
  return assemble(header, data);
}

describe('safetensors files', () => {
  it('readIntoSync fills a given array: F32 in place, BF16/F16 over several conversion chunks', async () => {
    // 2^20 + 3 elements: the half-float conversion runs in 2^20-element chunks, so the last
    // chunk is short; values are checked against the hand-written decoders of reference-floats.
    const n = (1 << 20) + 3;
    const rng = new Rng(9);
    const values = Float32Array.from({ length: n }, () => rng.normal() * 3);
    const path = join(tempDir(), 'into.safetensors');
    await writeSafetensors(path, [
      { name: 'f32', shape: [n], data: values },
      { name: 'bf16', shape: [n], data: values, dtype: 'BF16' },
      { name: 'f16', shape: [n], data: values, dtype: 'F16' },
    ]);
    const f = await openSafetensors(path);
    try {
      const dst = new Float32Array(n);
      f.readIntoSync('f32', dst);
      assert.deepEqual(dst, values);
      const nearestBf16Value = (x: number): number => bf16Value(nearestBf16(x));
      const nearestF16Value = (x: number): number => f16Value(nearestF16(x));
      for (const [name, nearest] of [
        ['bf16', nearestBf16Value],
        ['f16', nearestF16Value],
      ] as const) {
        dst.fill(NaN);
        f.readIntoSync(name, dst);
        for (const i of [0, 1, (1 << 20) - 1, 1 << 20, n - 1]) {
          assert.equal(dst[i], nearest(values[i] as number), `${name}[${i}]`);
        }
        assert.ok(!dst.some(Number.isNaN), `${name}: every element written`);
      }
      assert.throws(() => f.readIntoSync('f32', new Float32Array(n - 1)), /readIntoSync\('f32'\)/);
    } finally {
      await f.close();
    }
  });

  it('reads a file assembled by hand: names, shapes, dtypes, metadata and values', async () => {
    const path = join(tempDir(), 'hand.safetensors');
    writeFileSync(path, handMadeFile());
    const f = await openSafetensors(path);
    try {
      assert.deepEqual(f.names, ['a.bias', 'b.weight', 'c', 'd.ids', 'e', 's', 'z']);
      assert.deepEqual(f.metadata, { format: 'pt', note: 'hand made' });
      assert.deepEqual(f.entry('b.weight').shape, [2, 3]);
      assert.equal(f.entry('a.bias').dtype, 'F16');
      assert.deepEqual(Array.from(await f.read('c')), [1, -3.140625, Infinity]);
      assert.deepEqual(Array.from(await f.read('a.bias')), [1, 65504, 2 ** -24, -2]);
      const w = await f.read('b.weight');
      assert.deepEqual(Array.from(w), [1, -2, 0.5, 3.25, -0, Math.fround(1e-3)]);
      assert.ok(Object.is(w[4], -0));
      assert.deepEqual(Array.from(await f.read('s')), [42]);
      assert.equal((await f.read('z')).length, 0);
      assert.deepEqual(Array.from(await f.read('e')), [Math.fround(0.1), -Infinity]);
      await rejects(f.read('d.ids'), 'E_DATA', /d\.ids/, /I64/, /hand\.safetensors/);
      await rejects(f.read('nope'), 'E_DATA', /nope/, /hand\.safetensors/);
    } finally {
      await f.close();
    }
  });

  describe('rejects corrupt files with E_DATA naming the file', () => {
    const dir = tempDir();
    const ok = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const eight = f32Bytes([1, 2]);
    const cases: [string, () => Uint8Array, RegExp[]][] = [
      [
        'a header length larger than the file',
        () => assemble(ok, eight, { declaredLength: 10_000n }),
        [/header length 10000/],
      ],
      [
        'a header length beyond 2^53',
        () => assemble(ok, eight, { declaredLength: 2n ** 63n }),
        [/header length/],
      ],
      ['invalid JSON', () => assemble('{"a": {"dtype": "F32",', eight), [/JSON/]],
      [
        'a header that is not UTF-8',
        () => assemble(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x7b, 0x7d, 0x7d]), eight), // {"\xff":{}}
        [/UTF-8/],
      ],
      ['a JSON array header', () => assemble('[1,2]', eight), [/not a JSON object/]],
      [
        'offsets past the end of the data',
        () => assemble('{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}', eight),
        [/'a'/, /\[8, 16\]/],
      ],
      [
        'overlapping data',
        () =>
          assemble(
            '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
            f32Bytes([1, 2, 3]),
          ),
        [/'b'/, /overlap/],
      ],
      [
        'a gap between tensors',
        () =>
          assemble(
            '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}',
            f32Bytes([1, 2, 3]),
          ),
        [/'b'/, /gap|contiguous/],
      ],
      [
        'data not starting at offset 0',
        () => assemble('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', eight),
        [/'a'/, /gap|contiguous/],
      ],
      [
        'shape × dtype size ≠ byte length',
        () => assemble('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', eight),
        [/'a'/, /12 bytes/],
      ],
      [
        'a dtype the size of which is another',
        () => assemble('{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}', eight),
        [/'a'/],
      ],
      [
        'a truncated file',
        () => assemble(ok, eight).subarray(0, 8 + ok.length + 5),
        [/'a'/, /truncated/],
      ],
      [
        'a file cut inside the header',
        () => assemble(ok, eight).subarray(0, 20),
        [/header length/],
      ],
      ['a file shorter than the length prefix', () => new Uint8Array([1, 0, 0]), [/too short/]],
      [
        'trailing bytes after the data',
        () => assemble(ok, concat([eight, new Uint8Array(4)])),
        [/12 data bytes/],
      ],
      [
        'an unknown dtype',
        () => assemble('{"a":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}}', eight),
        [/'a'/, /F7/],
      ],
      [
        'a negative dimension',
        () => assemble('{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', eight),
        [/'a'/, /shape/],
      ],
      [
        'fractional offsets',
        () => assemble('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}}', eight),
        [/'a'/, /data_offsets/],
      ],
      [
        'end before begin',
        () => assemble('{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}', eight),
        [/'a'/],
      ],
      [
        'non-string metadata',
        () =>
          assemble(
            '{"__metadata__":{"n":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
            eight,
          ),
        [/__metadata__/],
      ],
      ['an entry that is not an object', () => assemble('{"a":[1]}', new Uint8Array(0)), [/'a'/]],
    ];
    cases.forEach(([what, bytes, patterns], i) => {
      it(what, async () => {
        const path = join(dir, `bad-${i}.safetensors`);
        writeFileSync(path, bytes());
        await rejects(
          openSafetensors(path),
          'E_DATA',
          new RegExp(`bad-${i}\\.safetensors`),
          ...patterns,
        );
      });
    });

    it('and the file left is still valid: the good base case opens', async () => {
      const path = join(dir, 'good.safetensors');
      writeFileSync(path, assemble(ok, eight));
      const f = await openSafetensors(path);
      assert.deepEqual(Array.from(await f.read('a')), [1, 2]);
      await f.close();
    });
  });

  it('fails with E_IO naming a missing file or a directory', async () => {
    const dir = tempDir();
    await rejects(
      openSafetensors(join(dir, 'none.safetensors')),
      'E_IO',
      /none\.safetensors/,
      /not found/,
    );
    await rejects(
      openSafetensors(dir),
      'E_IO',
      new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    );
  });

  it('reads one tensor from disk on demand and no other bytes', async () => {
    const path = join(tempDir(), 'lazy.safetensors');
    const header =
      '{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}';
    const bytes = assemble(header, f32Bytes([1, 2, 3, 4, 5, 6]));
    writeFileSync(path, bytes);
    const f = await openSafetensors(path);
    try {
      assert.equal(f.bytesRead, 0, 'opening reads only the header');
      // scribble over a's region on disk after opening: b must not care, a must see it
      const fd = openSync(path, 'r+');
      writeSync(fd, new Uint8Array(16).fill(0xff), 0, 16, 8 + header.length);
      closeSync(fd);
      assert.deepEqual(Array.from(await f.read('b')), [5, 6]);
      assert.equal(f.bytesRead, 8, 'exactly b’s 8 bytes were read');
      const a = await f.read('a');
      assert.ok(Array.from(a).every(Number.isNaN), 'a is read from disk now, not cached at open');
      assert.equal(f.bytesRead, 24);
    } finally {
      await f.close();
    }
  });

  it('writes the layout of the Python library: compact header, space padding to 8, sorted tensors', async () => {
    const path = join(tempDir(), 'w.safetensors');
    await writeSafetensors(path, [{ name: 'w', shape: [2], data: Float32Array.from([1, 2]) }]);
    const headerText = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes
    assert.deepEqual(
      new Uint8Array(readFileSync(path)),
      assemble(headerText + '  ', f32Bytes([1, 2])),
    );

    const mixed = join(tempDir(), 'mixed.safetensors');
    await writeSafetensors(
      mixed,
      [
        { name: 'h', shape: [1], data: Float32Array.from([1]), dtype: 'F16' },
        { name: 'b2', shape: [1], data: Float32Array.from([1]), dtype: 'BF16' },
        { name: 'z', shape: [1, 1], data: Float32Array.from([2]) },
        { name: 'b1', shape: [1], data: Float32Array.from([3]), dtype: 'BF16' },
        { name: 'a', shape: [], data: Float32Array.from([4]) },
      ],
      { format: 'pt' },
    );
    const { headerLength, headerText: text, header, data } = disassemble(readFileSync(mixed));
    assert.equal(headerLength % 8, 0);
    assert.match(text, /^\{.*\} *$/);
    // metadata first; then F32 before BF16 before F16 (alignment), by name within a dtype
    assert.deepEqual(Object.keys(header), ['__metadata__', 'a', 'z', 'b1', 'b2', 'h']);
    assert.deepEqual(header.a, { dtype: 'F32', shape: [], data_offsets: [0, 4] });
    assert.deepEqual(header.z, { dtype: 'F32', shape: [1, 1], data_offsets: [4, 8] });
    assert.deepEqual(header.b1, { dtype: 'BF16', shape: [1], data_offsets: [8, 10] });
    assert.deepEqual(header.h, { dtype: 'F16', shape: [1], data_offsets: [12, 14] });
    assert.deepEqual(data, concat([f32Bytes([4, 2]), u16Bytes([0x4040, 0x3f80, 0x3c00])]));
  });

  it('round-trips F32 bit for bit, specials included', async () => {
    const rng = new Rng(3);
    const bits = new Uint32Array(257);
    for (let i = 0; i < bits.length; i++) bits[i] = rng.nextUint32();
    bits.set([0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x7fc00000], 0);
    const data = new Float32Array(bits.buffer);
    const path = join(tempDir(), 'f32.safetensors');
    await writeSafetensors(path, [{ name: 'x', shape: [257], data }], { k: 'v' });
    const f = await openSafetensors(path);
    const back = await f.read('x');
    await f.close();
    assert.deepEqual(new Uint32Array(back.buffer, back.byteOffset, back.length), bits);
    assert.deepEqual(f.metadata, { k: 'v' });
  });

  it('round-trips F16 and BF16 to the nearest representable value (ties to even)', async () => {
    const rng = new Rng(5);
    const values: number[] = [1, 65504, 2 ** -24, -0, Infinity, 65520, 1 + 2 ** -11, 2 ** -25];
    for (let i = 0; i < 400; i++) values.push(Math.fround(rng.normal() * 2 ** (rng.int(40) - 24)));
    const data = Float32Array.from(values);
    const dir = tempDir();
    await writeSafetensors(join(dir, 'h.safetensors'), [
      { name: 'f16', shape: [data.length], data, dtype: 'F16' },
      { name: 'bf16', shape: [data.length], data, dtype: 'BF16' },
    ]);
    const raw = disassemble(readFileSync(join(dir, 'h.safetensors')));
    const dv = new DataView(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
    const f = await openSafetensors(join(dir, 'h.safetensors'));
    const f16 = await f.read('f16');
    const bf16 = await f.read('bf16');
    await f.close();
    // BF16 sorts before F16: bf16 data is at offset 0, f16 after it
    for (let i = 0; i < data.length; i++) {
      const x = data[i] as number;
      assert.equal(dv.getUint16(2 * i, true), nearestBf16(x), `BF16 bits of ${x}`);
      assert.equal(dv.getUint16(2 * (data.length + i), true), nearestF16(x), `F16 bits of ${x}`);
      assert.ok(Object.is(bf16[i], bf16Value(nearestBf16(x))), `BF16 value of ${x}`);
      assert.ok(Object.is(f16[i], f16Value(nearestF16(x))), `F16 value of ${x}`);
    }
    assert.equal(f16[0], 1);
    assert.equal(f16[5], Infinity, '65520 overflows to infinity in F16');
    assert.equal(bf16[5], 65536, '65520 is 65536 in BF16');
  });

  it('writes atomically: no temp files left, an old file replaced whole, nothing on failure', async () => {
    const dir = tempDir();
    const path = join(dir, 'm.safetensors');
    await writeSafetensors(path, [{ name: 'a', shape: [3], data: Float32Array.from([1, 2, 3]) }]);
    await writeSafetensors(path, [{ name: 'b', shape: [1], data: Float32Array.from([9]) }]);
    assert.deepEqual(readdirSync(dir), ['m.safetensors']);
    const f = await openSafetensors(path);
    assert.deepEqual(f.names, ['b']);
    await f.close();
    await rejects(
      writeSafetensors(join(dir, 'missing', 'x.safetensors'), []),
      'E_IO',
      /x\.safetensors/,
    );
    assert.equal(existsSync(join(dir, 'missing')), false);
  });

  it('refuses duplicate names and data that do not fit the shape (caller bugs)', async () => {
    const path = join(tempDir(), 'x.safetensors');
    const one = Float32Array.from([1]);
    await rejects(
      writeSafetensors(path, [
        { name: 'a', shape: [1], data: one },
        { name: 'a', shape: [1], data: one },
      ]),
      'E_INTERNAL',
      /'a'/,
      /duplicated/,
    );
    await rejects(
      writeSafetensors(path, [{ name: 'b', shape: [2], data: one }]),
      'E_INTERNAL',
      /'b'/,
    );
    assert.equal(existsSync(path), false);
  });
});
