// Reads and writes safetensors files (the Hugging Face weight format): an 8-byte little-endian
// header length N, N bytes of JSON describing each tensor, then the raw little-endian data.
// Opening reads only the header; each tensor is read from disk when asked for, so a checkpoint
// larger than memory can be converted tensor by tensor and nothing is held twice.
import { promises as fs, readSync as fsReadSync, writeSync as fsWriteSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import { readFailed, truncatedFile, writeFailed } from '../../error-factories.js';
import { decodeBf16, decodeF16, encodeBf16, encodeF16 } from './half-float.js';
import {
  dtypeSize,
  maxHeaderBytes,
  parseSafetensorsHeader,
  type SafetensorsDtype,
  type SafetensorsEntry,
} from './safetensors-header.js';

export type { SafetensorsDtype, SafetensorsEntry } from './safetensors-header.js';

/** The dtypes tensors can be written in. */
export type FloatDtype = 'F32' | 'F16' | 'BF16';

/** A tensor to write: row-major float32 values, stored as `dtype` (default F32). */
export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  data: Float32Array;
  dtype?: FloatDtype;
}

/** An open safetensors file: the header is parsed, tensor data stays on disk until read. */
export interface SafetensorsFile {
  readonly path: string;
  /** Tensor names, sorted (as the Python library's `keys()`). */
  readonly names: readonly string[];
  /** The `__metadata__` string map ({} when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensor data bytes read from disk so far (headers not counted). */
  readonly bytesRead: number;
  has(name: string): boolean;
  entry(name: string): SafetensorsEntry;
  /** One tensor's values as float32 (F32, F16, BF16 and F64 tensors). */
  read(name: string): Promise<Float32Array>;
  /** As {@link read}, synchronously: for building one model variable at a time. */
  readSync(name: string): Float32Array;
  /**
   * As {@link readSync}, into `dst` (exactly the tensor's element count): F32 bytes land in
   * `dst` itself, other dtypes are converted a chunk at a time, so no copy of the tensor exists.
   */
  readIntoSync(name: string, dst: Float32Array): void;
  close(): Promise<void>;
}

const hostIsLittleEndian = endianness() === 'LE';

/** Read exactly `length` bytes at `position`, or fail naming the file (it shrank under us). */
async function readAt(
  handle: FileHandle,
  path: string,
  length: number,
  position: number,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(new ArrayBuffer(length));
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(bytes, done, length - done, position + done);
    if (bytesRead === 0) {
      throw truncatedFile(path, { offset: position, expected: length, got: done });
    }
    done += bytesRead;
  }
  return bytes;
}

/** {@link readAt}, synchronously (positional reads on the same descriptor). */
function readAtSync(
  handle: FileHandle,
  path: string,
  length: number,
  position: number,
): Uint8Array {
  const bytes = new Uint8Array(new ArrayBuffer(length));
  let done = 0;
  while (done < length) {
    const n = fsReadSync(handle.fd, bytes, done, length - done, position + done);
    if (n === 0) {
      throw truncatedFile(path, { offset: position, expected: length, got: done });
    }
    done += n;
  }
  return bytes;
}

/** Elements converted per read by readIntoSync for dtypes other than F32 (4 MB of float32). */
const convertChunk = 1 << 20;

/** {@link readAtSync} into `bytes` (no allocation). */
function readIntoAtSync(
  handle: FileHandle,
  path: string,
  bytes: Uint8Array,
  position: number,
): void {
  let done = 0;
  while (done < bytes.byteLength) {
    const n = fsReadSync(handle.fd, bytes, done, bytes.byteLength - done, position + done);
    if (n === 0) {
      throw truncatedFile(path, { offset: position, expected: bytes.byteLength, got: done });
    }
    done += n;
  }
}

/** The dtypes {@link SafetensorsFile.read} converts to float32. */
const floatDtypes: ReadonlySet<SafetensorsDtype> = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Float32 values from the raw little-endian bytes of a tensor (freshly read, so reusable). */
function toFloat32(bytes: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / dtypeSize[dtype];
  switch (dtype) {
    case 'F32':
      if (!hostIsLittleEndian) buf.swap32();
      return new Float32Array(bytes.buffer, bytes.byteOffset, n);
    case 'F16':
      if (!hostIsLittleEndian) buf.swap16();
      return decodeF16(new Uint16Array(bytes.buffer, bytes.byteOffset, n));
    case 'BF16':
      if (!hostIsLittleEndian) buf.swap16();
      return decodeBf16(new Uint16Array(bytes.buffer, bytes.byteOffset, n));
    case 'F64':
      if (!hostIsLittleEndian) buf.swap64();
      return Float32Array.from(new Float64Array(bytes.buffer, bytes.byteOffset, n));
    default:
      throw new ScalpelError(ErrorCode.Internal, `toFloat32 called for dtype ${dtype}`);
  }
}

/** Open a safetensors file, reading and validating only its header. */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  let handle: FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (e) {
    throw readFailed(path, e, { what: 'safetensors file' });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw new ScalpelError(ErrorCode.Io, `${path} is not a file: expected a safetensors file`, {
        location: { file: path },
        hint: 'give the path of a .safetensors file (a checkpoint directory is opened with openCheckpoint)',
      });
    }
    const size = stat.size;
    if (size < 8) {
      throw new ScalpelError(
        ErrorCode.Data,
        `${path} is not a valid safetensors file: ${size} bytes, too short for the 8-byte header length`,
        { location: { file: path }, hint: 'the file is empty or truncated; fetch it again' },
      );
    }
    const headerLength = Buffer.from(await readAt(handle, path, 8, 0)).readBigUInt64LE(0);
    if (headerLength > BigInt(size - 8) || headerLength > BigInt(maxHeaderBytes)) {
      throw new ScalpelError(
        ErrorCode.Data,
        `${path} is not a valid safetensors file: the header length ${headerLength} is larger than ${headerLength > BigInt(size - 8) ? `the ${size - 8} bytes after it (truncated?)` : `the ${maxHeaderBytes}-byte limit`}`,
        { location: { file: path }, hint: 'the file is corrupt, truncated or not safetensors' },
      );
    }
    const n = Number(headerLength);
    const header = parseSafetensorsHeader(await readAt(handle, path, n, 8), size - 8 - n, path);
    return openedFile(path, handle, header.entries, header.metadata, 8 + n);
  } catch (e) {
    await handle.close();
    throw e;
  }
}

function openedFile(
  path: string,
  handle: FileHandle,
  entries: ReadonlyMap<string, SafetensorsEntry>,
  metadata: Readonly<Record<string, string>>,
  dataStart: number,
): SafetensorsFile {
  const names = [...entries.keys()].sort();
  let bytesRead = 0;
  let closed = false;
  const entry = (name: string): SafetensorsEntry => {
    const e = entries.get(name);
    if (e === undefined) {
      throw new ScalpelError(ErrorCode.Data, `${path} has no tensor '${name}'`, {
        location: { file: path },
        hint: `the file holds ${names.length} tensors${names.length > 0 ? `, e.g. '${names.slice(0, 3).join("', '")}'` : ''}`,
      });
    }
    return e;
  };
  /** Where a float tensor's bytes are, or why it cannot be read. */
  const readable = (
    name: string,
  ): { dtype: SafetensorsDtype; length: number; position: number } => {
    const { dtype, dataOffsets } = entry(name);
    if (closed) {
      throw new ScalpelError(
        ErrorCode.Internal,
        `${path} was read after close() (tensor '${name}')`,
      );
    }
    if (!floatDtypes.has(dtype)) {
      throw new ScalpelError(
        ErrorCode.Data,
        `tensor '${name}' in ${path} has dtype ${dtype}, which cannot be read as float weights`,
        {
          location: { file: path },
          hint: 'only F32, F16, BF16 and F64 tensors are supported; convert the checkpoint to one of them',
        },
      );
    }
    const length = dataOffsets[1] - dataOffsets[0];
    return { dtype, length, position: dataStart + dataOffsets[0] };
  };
  return {
    path,
    names,
    metadata,
    get bytesRead() {
      return bytesRead;
    },
    has: (name) => entries.has(name),
    entry,
    async read(name) {
      const { dtype, length, position } = readable(name);
      const bytes = await readAt(handle, path, length, position);
      bytesRead += length;
      return toFloat32(bytes, dtype);
    },
    readSync(name) {
      const { dtype, length, position } = readable(name);
      const bytes = readAtSync(handle, path, length, position);
      bytesRead += length;
      return toFloat32(bytes, dtype);
    },
    readIntoSync(name, dst) {
      const { dtype, length, position } = readable(name);
      const size = dtypeSize[dtype];
      if (dst.length * size !== length) {
        throw new ScalpelError(
          ErrorCode.Internal,
          `readIntoSync('${name}'): ${dst.length} values given, the tensor has ${length / size}`,
        );
      }
      if (dtype === 'F32' && hostIsLittleEndian) {
        readIntoAtSync(handle, path, new Uint8Array(dst.buffer, dst.byteOffset, length), position);
      } else {
        for (let at = 0; at < dst.length; at += convertChunk) {
          const n = Math.min(convertChunk, dst.length - at);
          const bytes = readAtSync(handle, path, n * size, position + at * size);
          dst.set(toFloat32(bytes, dtype), at);
        }
      }
      bytesRead += length;
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}

/** Write all of `bytes` at the current position (a single write may be partial). */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    done += (await handle.write(bytes, done, bytes.byteLength - done)).bytesWritten;
  }
}

/** {@link writeAll}, synchronously: `bytes` may be a view that an await would invalidate. */
function writeAllSync(handle: FileHandle, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) {
    done += fsWriteSync(handle.fd, bytes, done, bytes.byteLength - done);
  }
}

/** The little-endian bytes of a tensor in `dtype`. */
function encode(data: Float32Array, dtype: FloatDtype): Uint8Array {
  const view = dtype === 'F32' ? data : dtype === 'F16' ? encodeF16(data) : encodeBf16(data);
  const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  if (hostIsLittleEndian) return bytes;
  const copy = Buffer.from(bytes); // never swap the caller's array in place
  return dtype === 'F32' ? copy.swap32() : copy.swap16();
}

/** Python's order: wider dtypes first (keeps data aligned), then by name (UTF-8 byte order). */
const dtypeRank: Record<FloatDtype, number> = { F32: 0, BF16: 1, F16: 2 };

/** A tensor to write whose values are made only when the writer reaches it. */
export interface StreamedTensorToWrite {
  name: string;
  shape: readonly number[];
  /**
   * Called once, in file order; the array can be dropped as soon as it has been written. It may
   * be a view of a tensor's storage (valuesView): it is written synchronously, before anything
   * else can run.
   */
  values: () => Float32Array;
  dtype?: FloatDtype;
}

/** Fail (a caller bug) when `data` does not have the values `shape` implies. */
function checkCount(t: { name: string; shape: readonly number[] }, n: number, path: string): void {
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || count !== n) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `cannot write ${path}: tensor '${t.name}' has shape [${t.shape.join(', ')}] but ${n} values`,
    );
  }
}

/** Fail (a caller bug) on duplicate or reserved names. */
function checkNames(tensors: readonly { name: string }[], path: string): void {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__' || seen.has(t.name)) {
      throw new ScalpelError(
        ErrorCode.Internal,
        `cannot write ${path}: tensor name '${t.name}' is ${seen.has(t.name) ? 'duplicated' : 'reserved'}`,
      );
    }
    seen.add(t.name);
  }
}

/** Fail (a caller bug) on duplicate or reserved names and shapes that do not match the data. */
export function checkTensorsToWrite(tensors: readonly TensorToWrite[], path: string): void {
  checkNames(tensors, path);
  for (const t of tensors) checkCount(t, t.data.length, path);
}

/** The values a shape holds (the product of its dimensions). */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Either kind of tensor as a streamed one, checked: names unique and not reserved, shapes of
 * non-negative integers, and an in-memory tensor's data matching its shape (a streamed tensor's
 * values are checked when the writer makes them).
 */
export function streamedTensorsToWrite(
  tensors: readonly (TensorToWrite | StreamedTensorToWrite)[],
  path: string,
): StreamedTensorToWrite[] {
  checkNames(tensors, path);
  return tensors.map((t) => {
    if ('data' in t) {
      checkCount(t, t.data.length, path);
      const { data, ...rest } = t;
      return { ...rest, values: () => data };
    }
    checkCount(t, shapeSize(t.shape), path);
    return t;
  });
}

/**
 * Write `tensors` to `path` as safetensors, byte for byte as the Python library lays it out
 * (sorted tensors, compact JSON header padded with spaces to a multiple of 8). The file is
 * streamed to a temporary sibling and renamed into place, so it is never seen half-written and
 * only one tensor's converted bytes exist at a time.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  checkTensorsToWrite(tensors, path);
  const streamed = tensors.map((t) => ({ ...t, values: () => t.data }));
  await writeSafetensorsStreamed(path, streamed, metadata);
}

/**
 * {@link writeSafetensors} for tensors whose values are made one at a time as the file is
 * written (a checkpoint larger than memory, a benchmark's random weights).
 */
export async function writeSafetensorsStreamed(
  path: string,
  tensors: readonly StreamedTensorToWrite[],
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  checkNames(tensors, path);
  for (const t of tensors)
    checkCount(
      t,
      t.shape.reduce((a, b) => a * b, 1),
      path,
    );
  const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
  const ordered = [...tensors].sort(
    (a, b) =>
      dtypeRank[a.dtype ?? 'F32'] - dtypeRank[b.dtype ?? 'F32'] ||
      Buffer.compare(utf8(a.name), utf8(b.name)),
  );
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>; // any name is a plain key
  if (metadata !== undefined) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of ordered) {
    const dtype = t.dtype ?? 'F32';
    const end = offset + t.shape.reduce((a, b) => a * b, 1) * dtypeSize[dtype];
    header[t.name] = { dtype, shape: [...t.shape], data_offsets: [offset, end] };
    offset = end;
  }
  let json = utf8(JSON.stringify(header));
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, ' ')]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));

  const tmp = join(
    dirname(path),
    `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
  );
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(tmp, 'wx');
    await writeAll(handle, prefix);
    await writeAll(handle, json);
    for (const t of ordered) {
      const data = t.values();
      checkCount(t, data.length, path);
      writeAllSync(handle, encode(data, t.dtype ?? 'F32'));
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, path);
  } catch (e) {
    await handle?.close();
    await fs.rm(tmp, { force: true });
    if (e instanceof ScalpelError) throw e; // a values() of the wrong length: a caller bug
    throw writeFailed(path, e);
  }
}
