// Writes IDX files for tests, encoding the header by hand (independently of src/data/idx.ts).
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const codes = { uint8: 0x08, float32: 0x0d, int32: 0x0c } as const;

export function idxBytes(
  dtype: keyof typeof codes,
  dims: number[],
  values: ArrayLike<number>,
): Buffer {
  const size = dtype === 'uint8' ? 1 : 4;
  const buf = Buffer.alloc(4 + 4 * dims.length + values.length * size);
  buf[2] = codes[dtype];
  buf[3] = dims.length;
  dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  const off = 4 + 4 * dims.length;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (dtype === 'uint8') buf[off + i] = v;
    else if (dtype === 'float32') buf.writeFloatBE(v, off + 4 * i);
    else buf.writeInt32BE(v, off + 4 * i);
  }
  return buf;
}

export function writeIdx(
  path: string,
  dtype: keyof typeof codes,
  dims: number[],
  values: ArrayLike<number>,
  gzip = false,
): void {
  const b = idxBytes(dtype, dims, values);
  writeFileSync(path, gzip ? gzipSync(b) : b);
}
