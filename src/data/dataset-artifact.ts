// The 'dataset' artifact: what load-dataset writes into its outDir and every downstream stage
// reads back. Per split, compact little-endian binary files plus meta.json:
//   split<i>.x.u8   8-bit source pixels (when the split carries them) — x = lut[pixel] at read time,
//                   with the 256-entry float32 table stored in meta.json (55 MB instead of 220 MB
//                   for Fashion-MNIST, and bit-identical features after the round trip)
//   split<i>.x.f32  float32 features otherwise
//   split<i>.y.i32  int32 labels;  split<i>.ids.i32  int32 sample ids
// meta.json is written last, so a directory without it is not a dataset.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../errors.js';
import { assertLittleEndian } from '../util/little-endian.js';
import type { Artifact } from '../plugin-api/stage.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-file.js';
import { decodePixels } from './feature-transform.js';
import type { Dataset, DatasetSplit, ImageInfo } from './types.js';

export const DATASET_FORMAT = 'scalpel-dataset';
export const DATASET_FORMAT_VERSION = 1;

/** A split that also carries the 8-bit pixels its features were computed from: x[i] = lut[pixels[i]]. */
export interface PixelSplit extends DatasetSplit {
  readonly pixels: Uint8Array;
  /** 256 float32 values. */
  readonly lut: Float32Array;
}

export function isPixelSplit(s: DatasetSplit): s is PixelSplit {
  const p = s as Partial<PixelSplit>;
  return p.pixels instanceof Uint8Array && p.lut instanceof Float32Array && p.lut.length === 256;
}

export interface DatasetSplitMeta {
  name: string;
  count: number;
  sampleShape: number[];
  x: { file: string; dtype: 'uint8'; lut: number[] } | { file: string; dtype: 'float32' };
  y: { file: string; dtype: 'int32' };
  ids: { file: string; dtype: 'int32' };
}

/** Contents of meta.json, also returned as the stage manifest. */
export interface DatasetManifest extends Record<string, unknown> {
  format: typeof DATASET_FORMAT;
  formatVersion: number;
  source: string;
  numClasses: number;
  classNames?: string[];
  splits: DatasetSplitMeta[];
  /** Image samples: layout, size, padding and normalisation (load-dataset's image options). */
  image?: ImageInfo;
  /** How the data was built, when the source records it (text: corpora, tokenizer, split rule). */
  provenance?: Record<string, unknown>;
}

function bytesOf(a: Float32Array | Int32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** True when lut[pixels[i]] reproduces x bit for bit (so storing pixels loses nothing). */
function pixelsReproduce(split: PixelSplit): boolean {
  const { pixels, lut, x } = split;
  if (pixels.length !== x.length) return false;
  const xb = new Int32Array(x.buffer, x.byteOffset, x.length);
  const lb = new Int32Array(lut.buffer, lut.byteOffset, 256);
  for (let i = 0; i < pixels.length; i++) if (xb[i] !== lb[pixels[i] as number]) return false;
  return true;
}

function checkSplit(s: DatasetSplit): void {
  const size = s.sampleShape.reduce((a, b) => a * b, 1);
  if (s.x.length !== s.count * size || s.y.length !== s.count || s.ids.length !== s.count) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `dataset split '${s.name}' is inconsistent: ${s.count} samples of shape [${s.sampleShape.join(', ')}] but x has ${s.x.length} values, y ${s.y.length}, ids ${s.ids.length}`,
    );
  }
}

/** Write `dataset` into `dir` (which must exist); returns the manifest (= meta.json). */
export async function writeDatasetArtifact(
  dir: string,
  dataset: Dataset,
  opts: { provenance?: Record<string, unknown> } = {},
): Promise<DatasetManifest> {
  assertLittleEndian('dataset artifacts');
  await fs.mkdir(dir, { recursive: true });
  const splits: DatasetSplitMeta[] = [];
  let i = 0;
  for (const split of dataset.splits.values()) {
    checkSplit(split);
    const base = `split${i++}`;
    let x: DatasetSplitMeta['x'];
    if (isPixelSplit(split) && pixelsReproduce(split)) {
      x = { file: `${base}.x.u8`, dtype: 'uint8', lut: Array.from(split.lut) };
      await writeFileAtomic(join(dir, x.file), split.pixels);
    } else {
      x = { file: `${base}.x.f32`, dtype: 'float32' };
      await writeFileAtomic(join(dir, x.file), bytesOf(split.x));
    }
    const y = { file: `${base}.y.i32`, dtype: 'int32' as const };
    const ids = { file: `${base}.ids.i32`, dtype: 'int32' as const };
    await writeFileAtomic(join(dir, y.file), bytesOf(split.y));
    await writeFileAtomic(join(dir, ids.file), bytesOf(split.ids));
    splits.push({
      name: split.name,
      count: split.count,
      sampleShape: [...split.sampleShape],
      x,
      y,
      ids,
    });
  }
  const manifest: DatasetManifest = {
    format: DATASET_FORMAT,
    formatVersion: DATASET_FORMAT_VERSION,
    source: dataset.source,
    numClasses: dataset.numClasses,
    ...(dataset.classNames !== undefined ? { classNames: [...dataset.classNames] } : {}),
    splits,
    ...(dataset.image !== undefined ? { image: dataset.image } : {}),
    ...(opts.provenance !== undefined ? { provenance: opts.provenance } : {}),
  };
  await writeJsonAtomic(join(dir, 'meta.json'), manifest);
  return manifest;
}

/** Read a whole file into a fresh, aligned ArrayBuffer of exactly `expectedBytes`. */
async function readExact(
  dir: string,
  file: string,
  expectedBytes: number,
  shared = false,
): Promise<ArrayBufferLike> {
  const path = join(dir, file);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (e) {
    throw new ScalpelError(
      ErrorCode.Data,
      `dataset file ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      {
        hint: 'the dataset artifact is incomplete; rerun the load-dataset stage with --force',
        cause: e,
      },
    );
  }
  try {
    const { size } = await handle.stat();
    if (size !== expectedBytes) {
      throw new ScalpelError(
        ErrorCode.Data,
        `dataset file ${path} holds ${size} bytes, meta.json describes ${expectedBytes}`,
        {
          hint: 'the dataset artifact is corrupt; rerun the load-dataset stage with --force',
        },
      );
    }
    const buf = shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
    const view = new Uint8Array(buf);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await handle.read(view, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    if (off !== size)
      throw new ScalpelError(
        ErrorCode.Data,
        `dataset file ${path} ended after ${off} of ${size} bytes`,
      );
    return buf;
  } finally {
    await handle.close();
  }
}

function badMeta(path: string, what: string): ScalpelError {
  return new ScalpelError(ErrorCode.Data, `${path} is not a scalpel dataset artifact: ${what}`, {
    location: { file: path },
    hint: 'point the stage at the output of a load-dataset stage (or rerun it with --force)',
  });
}

function validImage(image: unknown): boolean {
  const i = image as Partial<ImageInfo> | null;
  const dims = [i?.height, i?.width, i?.channels, i?.sourceHeight, i?.sourceWidth];
  return (
    typeof i === 'object' &&
    i !== null &&
    (i.layout === 'hwc' || i.layout === 'chw') &&
    dims.every((d) => Number.isInteger(d) && (d as number) > 0) &&
    Array.isArray(i.fill) &&
    i.fill.length === i.channels &&
    typeof i.padding === 'object'
  );
}

function parseMeta(path: string, text: string): DatasetManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw badMeta(path, `invalid JSON (${(e as Error).message})`);
  }
  const m = json as Partial<DatasetManifest>;
  if (typeof json !== 'object' || json === null || m.format !== DATASET_FORMAT)
    throw badMeta(path, 'wrong format tag');
  if (m.formatVersion !== DATASET_FORMAT_VERSION)
    throw badMeta(
      path,
      `format version ${String(m.formatVersion)}, expected ${DATASET_FORMAT_VERSION}`,
    );
  if (
    !Array.isArray(m.splits) ||
    typeof m.numClasses !== 'number' ||
    typeof m.source !== 'string'
  ) {
    throw badMeta(path, 'missing splits, numClasses or source');
  }
  if (m.image !== undefined && !validImage(m.image)) throw badMeta(path, 'malformed image entry');
  for (const s of m.splits) {
    const ok =
      typeof s.name === 'string' &&
      Number.isInteger(s.count) &&
      s.count >= 0 &&
      Array.isArray(s.sampleShape) &&
      s.sampleShape.every((d) => Number.isInteger(d) && d > 0) &&
      (s.x.dtype === 'float32' ||
        (s.x.dtype === 'uint8' && Array.isArray(s.x.lut) && s.x.lut.length === 256)) &&
      typeof s.x.file === 'string' &&
      typeof s.y.file === 'string' &&
      typeof s.ids.file === 'string';
    if (!ok) throw badMeta(path, `split entry ${JSON.stringify(s.name)} is malformed`);
  }
  return m as DatasetManifest;
}

/** Read just meta.json of a dataset artifact. */
export async function readDatasetManifest(
  artifact: Pick<Artifact, 'dir'> | string,
): Promise<DatasetManifest> {
  const dir = typeof artifact === 'string' ? artifact : artifact.dir;
  const path = join(dir, 'meta.json');
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    throw new ScalpelError(
      ErrorCode.Data,
      `no dataset artifact in ${dir} (meta.json: ${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      {
        hint: 'the stage needs the output of a load-dataset stage in `needs`',
        cause: e,
      },
    );
  }
  return parseMeta(path, text);
}

/** Read a dataset artifact (by Artifact or directory) into memory. Pixel splits come back as PixelSplit. */
export async function readDatasetArtifact(
  artifact: Pick<Artifact, 'dir'> | string,
): Promise<Dataset> {
  assertLittleEndian('dataset artifacts');
  const dir = typeof artifact === 'string' ? artifact : artifact.dir;
  const meta = await readDatasetManifest(dir);
  const splits = new Map<string, DatasetSplit>();
  for (const s of meta.splits) {
    const size = s.sampleShape.reduce((a, b) => a * b, 1) * s.count;
    const y = new Int32Array(await readExact(dir, s.y.file, s.count * 4));
    const ids = new Int32Array(await readExact(dir, s.ids.file, s.count * 4));
    const common = { name: s.name, count: s.count, sampleShape: s.sampleShape, y, ids };
    if (s.x.dtype === 'uint8') {
      const pixels = new Uint8Array(await readExact(dir, s.x.file, size));
      const lut = Float32Array.from(s.x.lut);
      // x in shared memory: data-parallel worker threads read their shards of it without a copy
      // (src/parallel/wire.ts).
      const x = decodePixels(pixels, lut, new Float32Array(new SharedArrayBuffer(size * 4)));
      const split: PixelSplit = { ...common, x, pixels, lut };
      splits.set(s.name, split);
    } else {
      splits.set(s.name, {
        ...common,
        x: new Float32Array(await readExact(dir, s.x.file, size * 4, true)),
      });
    }
  }
  return {
    source: meta.source,
    numClasses: meta.numClasses,
    ...(meta.classNames !== undefined ? { classNames: meta.classNames } : {}),
    splits,
    ...(meta.image !== undefined ? { image: meta.image } : {}),
  };
}

/** The split called `name`, or a clear error listing the splits there are. */
export function requireSplit(dataset: Dataset, name: string, stageId?: string): DatasetSplit {
  const split = dataset.splits.get(name);
  if (split === undefined) {
    throw new ScalpelError(
      ErrorCode.Data,
      `the dataset (${dataset.source}) has no '${name}' split`,
      {
        ...(stageId !== undefined ? { stageId } : {}),
        hint: `splits: ${[...dataset.splits.keys()].join(', ') || '(none)'}`,
      },
    );
  }
  return split;
}
