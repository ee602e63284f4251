// scalpel's compact sparse model format (documented in docs/export.md):
//   sparse.json  { format: 'scalpel-sparse', version: 1, modelTopology, weights: [...] }
//   sparse.bin   per weight, at `offset` (4-byte aligned):
//     encoding 'bitmask': ceil(n/8) bytes, bit i (LSB first) = 1 when element i is stored,
//                         padding to a multiple of 4 bytes, then the stored float32 values in
//                         row-major order (little-endian)
//     encoding 'dense':   the raw bytes of the tensor (used when a bitmask would not save space,
//                         e.g. biases, and for non-float32 weights)
// "Stored" means the float32 bit pattern is not all zeros, so −0.0 and NaN survive and the
// rebuilt weights are bit-identical to the exported ones. `loadSparseModel` rebuilds the dense
// tfjs LayersModel.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ensureBackend } from '../backend.js';
import { ErrorCode, ScalpelError } from '../../errors.js';
import { badData, invalidJson, readFailed } from '../../error-factories.js';
import { isObject } from '../../util/is-object.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic-file.js';

export const SPARSE_FORMAT = 'scalpel-sparse';

export interface SparseWeightEntry {
  /** The tfjs weight spec (name, shape, dtype) exactly as in model.json. */
  spec: tf.io.WeightsManifestEntry;
  encoding: 'bitmask' | 'dense';
  /** Byte offset in sparse.bin. */
  offset: number;
  /** Bytes this entry occupies in sparse.bin (without alignment padding after it). */
  byteLength: number;
  /** Number of stored values ('bitmask') or elements ('dense'). */
  stored: number;
}

export interface SparseModelJson {
  format: typeof SPARSE_FORMAT;
  version: 1;
  bitOrder: 'lsb-first';
  byteOrder: 'little-endian';
  modelTopology: unknown;
  weights: SparseWeightEntry[];
}

const align4 = (n: number): number => (n + 3) & ~3;

function encodeWeight(
  spec: tf.io.WeightsManifestEntry,
  bytes: Uint8Array,
): { encoding: 'bitmask' | 'dense'; data: Uint8Array; stored: number } {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.dtype !== 'float32' || spec.quantization !== undefined)
    return { encoding: 'dense', data: bytes, stored: n };
  const bits = new Uint32Array(bytes.buffer, bytes.byteOffset, n);
  let stored = 0;
  for (let i = 0; i < n; i++) if (bits[i] !== 0) stored++;
  const maskBytes = align4(Math.ceil(n / 8));
  if (maskBytes + 4 * stored >= 4 * n) return { encoding: 'dense', data: bytes, stored: n };
  const out = new Uint8Array(maskBytes + 4 * stored);
  const values = new Uint32Array(out.buffer, maskBytes, stored);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const b = bits[i] as number;
    if (b !== 0) {
      out[i >> 3] = (out[i >> 3] as number) | (1 << (i & 7));
      values[k++] = b;
    }
  }
  return { encoding: 'bitmask', data: out, stored };
}

const corruptHint = 'the files are corrupt or do not belong together; export the model again';

/** The bytes of one weight from sparse.bin (`binPath` names it in errors). */
function decodeWeight(entry: SparseWeightEntry, bin: Uint8Array, binPath: string): Uint8Array {
  const name = entry.spec.name;
  const fail = (detail: string, offset = entry.offset): ScalpelError =>
    badData(binPath, `weight '${name}': ${detail}`, { offset, layer: name, hint: corruptHint });
  const n = entry.spec.shape.reduce((a, b) => a * b, 1);
  const chunk = bin.subarray(entry.offset, entry.offset + entry.byteLength);
  if (chunk.length !== entry.byteLength)
    throw fail(`truncated: ${entry.byteLength} bytes expected, the file holds ${chunk.length}`);
  if (entry.encoding === 'dense') {
    if (entry.byteLength !== 4 * n)
      throw fail(`${entry.byteLength} dense bytes for ${n} elements of 4 bytes`);
    return chunk;
  }
  const maskBytes = align4(Math.ceil(n / 8));
  if (entry.byteLength !== maskBytes + 4 * entry.stored)
    throw fail(`${entry.byteLength} bytes do not fit ${entry.stored} stored values`);
  const values = new Uint32Array(chunk.slice(maskBytes).buffer);
  const out = new Uint32Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (((chunk[i >> 3] as number) >> (i & 7)) & 1) {
      if (k >= entry.stored)
        throw fail(
          `the bitmask has more bits set than its ${entry.stored} stored values`,
          entry.offset + (i >> 3),
        );
      out[i] = values[k++] as number;
    }
  }
  if (k !== entry.stored) throw fail(`${k} bits set for ${entry.stored} stored values`);
  return new Uint8Array(out.buffer);
}

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/** Throws a located E_DATA unless `json` has the shape of a sparse.json scalpel writes. */
function checkManifest(json: unknown, jsonPath: string): asserts json is SparseModelJson {
  const fail = (detail: string): ScalpelError =>
    badData(jsonPath, detail, {
      hint: 'point loadSparseModel at a directory written by the export stage with sparse: true',
    });
  if (!isObject(json) || json['format'] !== SPARSE_FORMAT || json['version'] !== 1) {
    const f = isObject(json) ? `format ${String(json['format'])} v${String(json['version'])}` : '';
    throw fail(`not a scalpel sparse model${f !== '' ? ` (${f})` : ''}`);
  }
  const weights = json['weights'];
  if (!Array.isArray(weights)) throw fail('`weights` is not a list');
  weights.forEach((w: unknown, i) => {
    const spec = isObject(w) ? w['spec'] : undefined;
    const ok =
      isObject(w) &&
      isObject(spec) &&
      typeof spec['name'] === 'string' &&
      Array.isArray(spec['shape']) &&
      spec['shape'].every(isCount) &&
      (w['encoding'] === 'bitmask' || w['encoding'] === 'dense') &&
      isCount(w['offset']) &&
      isCount(w['byteLength']) &&
      isCount(w['stored']);
    if (!ok)
      throw fail(
        `weights[${i}] is not { spec: { name, shape }, encoding: bitmask|dense, offset, byteLength, stored }`,
      );
  });
}

/** Bytes of each weight (in spec order) from a tfjs weight buffer. */
function splitWeightData(
  specs: readonly tf.io.WeightsManifestEntry[],
  data: Uint8Array,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  for (const spec of specs) {
    if (spec.quantization !== undefined || (spec.dtype !== 'float32' && spec.dtype !== 'int32')) {
      throw new ScalpelError(
        ErrorCode.Data,
        `the sparse format supports float32/int32 weights; '${spec.name}' is ${spec.quantization?.dtype ?? spec.dtype}`,
      );
    }
    const bytes = 4 * spec.shape.reduce((a, b) => a * b, 1);
    out.push(data.slice(off, off + bytes));
    off += bytes;
  }
  return out;
}

/** Write `model` in the sparse format into `dir` (sparse.json + sparse.bin, each atomic). */
export async function writeSparseModel(
  model: tfl.LayersModel,
  dir: string,
): Promise<SparseModelJson> {
  let result: SparseModelJson | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const specs = artifacts.weightSpecs ?? [];
      const wd = artifacts.weightData;
      const data = new Uint8Array(
        wd === undefined
          ? new ArrayBuffer(0)
          : tf.io.concatenateArrayBuffers(Array.isArray(wd) ? wd : [wd]),
      );
      const parts = splitWeightData(specs, data);
      const weights: SparseWeightEntry[] = [];
      const chunks: Uint8Array[] = [];
      let offset = 0;
      specs.forEach((spec, i) => {
        const enc = encodeWeight(spec, parts[i] as Uint8Array);
        weights.push({
          spec,
          encoding: enc.encoding,
          offset,
          byteLength: enc.data.length,
          stored: enc.stored,
        });
        chunks.push(enc.data);
        offset = align4(offset + enc.data.length);
      });
      const bin = new Uint8Array(offset);
      weights.forEach((w, i) => bin.set(chunks[i] as Uint8Array, w.offset));
      result = {
        format: SPARSE_FORMAT,
        version: 1,
        bitOrder: 'lsb-first',
        byteOrder: 'little-endian',
        modelTopology: artifacts.modelTopology,
        weights,
      };
      await writeFileAtomic(join(dir, 'sparse.bin'), bin);
      await writeJsonAtomic(join(dir, 'sparse.json'), result);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (result === undefined)
    throw new ScalpelError(ErrorCode.Internal, 'tfjs did not call the save handler');
  return result;
}

/** Rebuild the dense LayersModel from a directory holding sparse.json + sparse.bin. */
export async function loadSparseModel(dir: string): Promise<tfl.LayersModel> {
  await ensureBackend(); // called from user code: the documented snippet needs no setup
  const jsonPath = join(dir, 'sparse.json');
  const binPath = join(dir, 'sparse.bin');
  const hint = 'point loadSparseModel at a directory written by the export stage with sparse: true';
  let text: string;
  let bin: Uint8Array;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (e) {
    throw readFailed(jsonPath, e, { what: 'sparse model', hint });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalidJson(jsonPath, e, { hint });
  }
  checkManifest(json, jsonPath);
  try {
    bin = new Uint8Array(await fs.readFile(binPath));
  } catch (e) {
    throw readFailed(binPath, e, { what: 'sparse model weights', hint });
  }
  const parts = json.weights.map((w) => decodeWeight(w, bin, binPath));
  const total = parts.reduce((a, p) => a + p.length, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    weightData.set(p, off);
    off += p.length;
  }
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: json.weights.map((w) => w.spec),
      weightData: weightData.buffer,
    }),
  );
}
