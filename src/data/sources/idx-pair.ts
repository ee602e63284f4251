// Splits from IDX images files (n × rows × cols …) and IDX labels files (n), shared by the `idx`,
// `mnist` and `fashion-mnist-official` sources. Sample ids are the record indices in the files.
import { ErrorCode, ScalpelError } from '../../errors.js';
import { readIdxFile } from '../idx.js';
import type { LabelEncoder } from '../labels.js';
import type { RawSplit, SourceEnv } from './types.js';

export interface IdxSplit {
  split: RawSplit;
  /** Dimensions of one sample in the file, e.g. [28, 28]. */
  sampleDims: number[];
  pixels: boolean;
}

export async function loadIdxPair(
  name: string,
  imagesPath: string,
  labelsPath: string,
  encoder: LabelEncoder,
  env: SourceEnv,
): Promise<IdxSplit> {
  const images = await readIdxFile(imagesPath);
  const labels = await readIdxFile(labelsPath);
  if (images.dims.length < 2) {
    throw new ScalpelError(
      ErrorCode.Data,
      `${imagesPath} holds an array of shape [${images.dims.join(', ')}], expected samples × features (at least 2 dimensions)`,
      {
        location: { file: imagesPath },
        hint: 'is this the labels file? the images file comes first',
      },
    );
  }
  if (labels.dims.length !== 1) {
    throw new ScalpelError(
      ErrorCode.Data,
      `${labelsPath} holds an array of shape [${labels.dims.join(', ')}], expected one label per sample (1 dimension)`,
      {
        location: { file: labelsPath },
        hint: 'is this the images file? labels and images may be swapped',
      },
    );
  }
  const n = images.dims[0] as number;
  if (labels.dims[0] !== n) {
    throw new ScalpelError(
      ErrorCode.Data,
      `${imagesPath} holds ${n} samples but ${labelsPath} holds ${labels.dims[0]} labels`,
      {
        location: { file: labelsPath },
        hint: 'the two files do not belong together',
      },
    );
  }
  const sampleDims = images.dims.slice(1);
  const size = sampleDims.reduce((a, b) => a * b, 1);
  const pixels = images.dtype === 'uint8';
  const keep = new Int32Array(n);
  const encoded = new Int32Array(n);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const raw = labels.values[i] as number;
    const e = encoder.encode(raw);
    if (!e.ok) {
      env.malformed.report(
        name,
        e.missing ? 'missing-label' : 'bad-label',
        { file: labelsPath, record: i },
        e.detail,
      );
      continue;
    }
    if (!pixels) {
      let finite = true;
      for (let k = i * size; k < (i + 1) * size; k++)
        if (!Number.isFinite(images.values[k])) finite = false;
      if (!finite) {
        env.malformed.report(
          name,
          'non-numeric',
          { file: imagesPath, record: i },
          'NaN or infinite value',
        );
        continue;
      }
    }
    keep[kept] = i;
    encoded[kept++] = e.label;
  }
  const values = pixels ? new Uint8Array(kept * size) : new Float64Array(kept * size);
  const ids = keep.slice(0, kept);
  for (let j = 0; j < kept; j++) {
    const i = ids[j] as number;
    values.set(images.values.subarray(i * size, (i + 1) * size), j * size);
  }
  return {
    split: { name, count: kept, values, labels: encoded.slice(0, kept), ids },
    sampleDims,
    pixels,
  };
}

export interface IdxPairPaths {
  readonly images: string;
  readonly labels: string;
}

/**
 * Each named pair in order, under one progress bar (`what`), abortable between files; `check`
 * sees each split as it is read (e.g. to insist on 28×28 images).
 */
export async function loadIdxPairs(
  pairs: Iterable<readonly [string, IdxPairPaths]>,
  encoder: LabelEncoder,
  env: SourceEnv,
  what: string,
  check?: (loaded: IdxSplit, pair: IdxPairPaths) => void,
): Promise<(IdxSplit & { images: string })[]> {
  const list = [...pairs];
  const loaded: (IdxSplit & { images: string })[] = [];
  const progress = env.progress(what, list.length);
  try {
    for (const [name, pair] of list) {
      env.signal?.throwIfAborted();
      const split = await loadIdxPair(name, pair.images, pair.labels, encoder, env);
      check?.(split, pair);
      loaded.push({ ...split, images: pair.images });
      progress.tick();
    }
  } finally {
    progress.done();
  }
  return loaded;
}

/** The natural sample shape of IDX samples: [rows, cols, 1] for 2-D images, else the file's dims. */
export function idxNativeShape(sampleDims: readonly number[]): number[] {
  return sampleDims.length === 2 ? [...sampleDims, 1] : [...sampleDims];
}
