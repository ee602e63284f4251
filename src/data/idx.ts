// The IDX format of the MNIST files (http://yann.lecun.com/exdb/mnist/): a 4-byte magic number
// (two zero bytes, a type code, the number of dimensions), one big-endian uint32 per dimension,
// then the values, big-endian, row-major. Files ending in .gz are gunzipped first.
import { promises as fs } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ErrorCode, ScalpelError } from '../errors.js';
import { readFailed } from '../error-factories.js';

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxValues =
  Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dtype: IdxDtype;
  dims: number[];
  values: IdxValues;
}

const types: Record<number, { dtype: IdxDtype; bytes: number }> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
};

function bad(file: string, what: string): ScalpelError {
  return new ScalpelError(ErrorCode.Data, `${file} is not a valid IDX file: ${what}`, {
    location: { file },
    hint: 'IDX files start with 0x00 0x00 <type> <ndims>; check the path and that the download is complete',
  });
}

/** Parse IDX bytes (`file` is only used in error messages). */
export function parseIdx(buf: Uint8Array, file: string): IdxArray {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 4) throw bad(file, `only ${buf.length} bytes`);
  if (buf[0] !== 0 || buf[1] !== 0)
    throw bad(
      file,
      `magic number starts with 0x${view.getUint16(0).toString(16)}, expected 0x0000`,
    );
  const type = types[buf[2] as number];
  if (type === undefined) throw bad(file, `unknown type code 0x${(buf[2] as number).toString(16)}`);
  const ndims = buf[3] as number;
  if (ndims === 0) throw bad(file, 'zero dimensions');
  const header = 4 + 4 * ndims;
  if (buf.length < header)
    throw bad(file, `truncated header (${buf.length} bytes, ${ndims} dimensions need ${header})`);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = header + count * type.bytes;
  if (buf.length !== expected) {
    throw bad(
      file,
      `dimensions [${dims.join(', ')}] of ${type.dtype} need ${expected} bytes, the file has ${buf.length} (${buf.length < expected ? 'truncated' : 'trailing bytes'})`,
    );
  }
  let values: IdxValues;
  switch (type.dtype) {
    case 'uint8':
      values = new Uint8Array(buf.subarray(header, expected)); // a copy: Buffer#slice would share memory
      break;
    case 'int8':
      values = new Int8Array(new Uint8Array(buf.subarray(header, expected)).buffer);
      break;
    case 'int16':
      values = new Int16Array(count);
      for (let i = 0; i < count; i++) values[i] = view.getInt16(header + 2 * i, false);
      break;
    case 'int32':
      values = new Int32Array(count);
      for (let i = 0; i < count; i++) values[i] = view.getInt32(header + 4 * i, false);
      break;
    case 'float32':
      values = new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = view.getFloat32(header + 4 * i, false);
      break;
    case 'float64':
      values = new Float64Array(count);
      for (let i = 0; i < count; i++) values[i] = view.getFloat64(header + 8 * i, false);
      break;
  }
  return { dtype: type.dtype, dims, values };
}

/** Read and parse an IDX file (gunzipping `*.gz`). */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(path);
  } catch (e) {
    throw readFailed(path, e, { what: 'IDX file' });
  }
  if (path.endsWith('.gz')) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw bad(path, `gunzip failed (${(e as Error).message})`);
    }
  }
  return parseIdx(buf, path);
}
