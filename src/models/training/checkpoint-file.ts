// One training checkpoint as one file, so that writing it atomically (temp file + rename) makes the
// whole state appear at once or not at all:
//   bytes 0..8    magic "SCLPCKPT"
//   bytes 8..16   header length H (uint64 little-endian)
//   16..16+H      JSON header (padded with spaces to a multiple of 8): the step, tensor table,
//                 optimizer settings, RNG positions, the loop's own JSON state, payload sha256
//   then          the payload: float32 little-endian tensors back to back
// Reading checks everything (magic, lengths, JSON shape, tensor table, checksum) and fails with
// E_DATA naming the file; a missing file is E_IO.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { ErrorCode, ScalpelError } from '../../errors.js';
import { assertLittleEndian } from '../../util/little-endian.js';
import { readFailed } from '../../error-factories.js';
import { isObject } from '../../util/is-object.js';
import type { RngState } from '../../util/rng.js';

const magic = 'SCLPCKPT';
const formatVersion = 1;

/** Which state a tensor belongs to: a model variable or one of AdamW's moments. */
export type TensorGroup = 'model' | 'm' | 'v';

export interface CheckpointTensor {
  readonly group: TensorGroup;
  /** The variable's name when saved (for messages; variables are matched by position). */
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export interface OptimizerSettings {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  readonly decayed: readonly boolean[];
}

/** Everything a checkpoint holds. */
export interface CheckpointData {
  /** Updates done when it was written. */
  readonly step: number;
  /** Model variables, then first moments, then second moments, each in variable order. */
  readonly tensors: readonly CheckpointTensor[];
  readonly optimizer: OptimizerSettings & { readonly step: number };
  readonly rngs: Readonly<Record<string, RngState>>;
  /** The training loop's own JSON state (data position, curves, its configuration). */
  readonly loop: Readonly<Record<string, unknown>>;
}

/** The file's bytes. */
export function encodeCheckpoint(c: CheckpointData): Uint8Array {
  assertLittleEndian('training checkpoints');
  let offset = 0;
  const table = c.tensors.map((t) => {
    const entry = {
      group: t.group,
      name: t.name,
      shape: [...t.shape],
      offset,
      count: t.values.length,
    };
    offset += t.values.length;
    return entry;
  });
  const payload = Buffer.alloc(offset * 4);
  let at = 0;
  for (const t of c.tensors) {
    payload.set(new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength), at);
    at += t.values.byteLength;
  }
  const header = {
    format: 'scalpel-training-checkpoint',
    version: formatVersion,
    step: c.step,
    tensors: table,
    optimizer: c.optimizer,
    rngs: c.rngs,
    loop: c.loop,
    payloadBytes: payload.length,
    payloadSha256: createHash('sha256').update(payload).digest('hex'),
  };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(16);
  head.write(magic, 0, 'latin1');
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 8);
  return Buffer.concat([head, Buffer.from(json, 'utf8'), payload]);
}

/** Read and verify a checkpoint file. */
export async function readCheckpointFile(path: string): Promise<CheckpointData> {
  assertLittleEndian('training checkpoints');
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(path);
  } catch (e) {
    throw readFailed(path, e, { what: 'training checkpoint' });
  }
  return decodeCheckpoint(bytes, path);
}

function corrupt(path: string, what: string): ScalpelError {
  return new ScalpelError(ErrorCode.Data, `training checkpoint ${path} is corrupt: ${what}`, {
    location: { file: path },
    hint: 'delete this file: training then resumes from the previous checkpoint (or starts over)',
  });
}

/** Parse and verify checkpoint bytes; `path` names them in errors. */
export function decodeCheckpoint(bytes: Uint8Array, path: string): CheckpointData {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 16 || buf.toString('latin1', 0, 8) !== magic) {
    throw corrupt(path, `it does not start with the ${magic} header (${buf.length} bytes)`);
  }
  const headerLength = buf.readBigUInt64LE(8);
  if (headerLength > BigInt(buf.length - 16)) {
    throw corrupt(
      path,
      `the header length ${headerLength} exceeds the ${buf.length - 16} bytes after it (truncated?)`,
    );
  }
  const payloadStart = 16 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(buf.toString('utf8', 16, payloadStart));
  } catch (e) {
    throw corrupt(path, `its header is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObject(header) || header.format !== 'scalpel-training-checkpoint') {
    throw corrupt(path, 'its header is not a scalpel training checkpoint header');
  }
  if (header.version !== formatVersion) {
    throw new ScalpelError(
      ErrorCode.Data,
      `training checkpoint ${path} has format version ${String(header.version)}; this scalpel reads version ${formatVersion}`,
      { location: { file: path }, hint: 'delete the checkpoint directory to train from the start' },
    );
  }
  const payload = buf.subarray(payloadStart);
  if (header.payloadBytes !== payload.length) {
    throw corrupt(
      path,
      `the payload has ${payload.length} bytes, the header says ${String(header.payloadBytes)} (truncated?)`,
    );
  }
  if (header.payloadSha256 !== createHash('sha256').update(payload).digest('hex')) {
    throw corrupt(path, 'the payload does not match its sha256 checksum');
  }
  const step = header.step;
  if (!isCount(step)) throw corrupt(path, `step ${String(step)} is not a non-negative integer`);
  return {
    step,
    tensors: readTensorTable(header.tensors, payload, path),
    optimizer: readOptimizer(header.optimizer, path),
    rngs: readRngs(header.rngs, path),
    loop: isObject(header.loop)
      ? header.loop
      : failWith(corrupt(path, 'the loop state is not an object')),
  };
}

function failWith(e: Error): never {
  throw e;
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0;
}

function readTensorTable(table: unknown, payload: Buffer, path: string): CheckpointTensor[] {
  if (!Array.isArray(table)) throw corrupt(path, 'the tensor table is not a list');
  const floats = payload.length / 4;
  return table.map((e: unknown, i) => {
    const ok =
      isObject(e) &&
      (e.group === 'model' || e.group === 'm' || e.group === 'v') &&
      typeof e.name === 'string' &&
      Array.isArray(e.shape) &&
      e.shape.every(isCount) &&
      isCount(e.offset) &&
      isCount(e.count) &&
      e.shape.reduce((a, b) => a * b, 1) === e.count &&
      e.offset + e.count <= floats;
    if (!ok)
      throw corrupt(path, `entry ${i} of the tensor table is malformed or outside the payload`);
    const start = 4 * (e.offset as number);
    // A copy: the payload's offset in the file buffer need not be 4-aligned.
    const values = new Float32Array(
      payload.buffer.slice(
        payload.byteOffset + start,
        payload.byteOffset + start + 4 * (e.count as number),
      ),
    );
    return {
      group: e.group as TensorGroup,
      name: e.name as string,
      shape: e.shape as number[],
      values,
    };
  });
}

function readOptimizer(o: unknown, path: string): CheckpointData['optimizer'] {
  const ok =
    isObject(o) &&
    isCount(o.step) &&
    [o.beta1, o.beta2, o.epsilon, o.weightDecay].every((x) => typeof x === 'number') &&
    Array.isArray(o.decayed) &&
    o.decayed.every((d) => typeof d === 'boolean');
  if (!ok) throw corrupt(path, 'the optimizer settings are malformed');
  return o as unknown as CheckpointData['optimizer'];
}

function readRngs(r: unknown, path: string): Record<string, RngState> {
  if (!isObject(r)) throw corrupt(path, 'the RNG states are not an object');
  for (const [name, s] of Object.entries(r)) {
    const ok =
      isObject(s) &&
      typeof s.seed === 'number' &&
      Array.isArray(s.words) &&
      s.words.length === 4 &&
      s.words.every((w) => Number.isInteger(w));
    if (!ok) throw corrupt(path, `the state of RNG stream '${name}' is malformed`);
  }
  return r as Record<string, RngState>;
}
