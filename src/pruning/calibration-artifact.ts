// The 'calibration' artifact (written by the calibrate stage, read by pruners):
//   calibration.json  { format, version, samples, split, sampleIds, source, seed, sampleShape,
//                       sequential?, layers: [{ name, rows, files }] }
//   layer<i>.norms.f32 (fanIn)   layer<i>.gram.f64 (fanIn × fanIn)   layer<i>.grad.f32 (kernel size)
//   samples.x.f32, samples.y.i32, samples.ids.i32 (sequential only: the samples themselves, so the
//   prune stage can recompute statistics block by block from the partly pruned model)
// little-endian binary; every file is written atomically and calibration.json last, so a
// directory without it is not a calibration artifact.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../errors.js';
import { assertLittleEndian } from '../util/little-endian.js';
import type { CalibrationData, LayerCalibration } from '../plugin-api/calibration.js';
import type { Samples } from '../plugin-api/dataset.js';
import type { Artifact } from '../plugin-api/stage.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-file.js';

export const CALIBRATION_FORMAT = 'scalpel-calibration';

interface StatFile {
  file: string;
  dtype: 'float32' | 'float64';
  length: number;
}

interface LayerEntry {
  name: string;
  rows: number;
  inputNorms?: StatFile;
  gram?: StatFile;
  meanGradient?: StatFile;
}

/** Where the calibration samples came from, recorded so a paper's setting can be reproduced. */
export interface CalibrationProvenance {
  /** The dataset's source ('text', 'fashion-mnist', …). */
  readonly source: string;
  /** Seed of the sample draw. */
  readonly seed: number;
  /** Shape of one sample: [sequence length] for text. */
  readonly sampleShape: readonly number[];
}

/** Present when statistics are to be computed block by block at prune time. */
export interface SequentialCalibration {
  /** Samples per forward pass. */
  readonly batchSize: number;
  readonly samples: Samples;
}

export interface CalibrationWrite extends CalibrationData {
  readonly provenance?: CalibrationProvenance;
  readonly sequential?: SequentialCalibration;
}

export interface CalibrationManifest extends Record<string, unknown> {
  format: typeof CALIBRATION_FORMAT;
  version: 1;
  samples: number;
  split: string;
  sampleIds: number[];
  source?: string;
  seed?: number;
  sampleShape?: number[];
  sequential?: {
    batchSize: number;
    files: { x: string; y: string; ids: string };
    lengths: { x: number; y: number };
  };
  layers: LayerEntry[];
}

const bytes = (a: Float32Array | Float64Array | Int32Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Write `data` into `dir`; returns the manifest (= calibration.json). */
export async function writeCalibrationArtifact(
  dir: string,
  data: CalibrationWrite,
): Promise<CalibrationManifest> {
  assertLittleEndian('calibration artifacts');
  await fs.mkdir(dir, { recursive: true });
  const layers: LayerEntry[] = [];
  let i = 0;
  for (const [name, cal] of data.layers) {
    const entry: LayerEntry = { name, rows: cal.rows };
    const put = async (
      key: 'inputNorms' | 'gram' | 'meanGradient',
      ext: string,
      a: Float32Array | Float64Array | undefined,
    ): Promise<void> => {
      if (a === undefined) return;
      const file = `layer${i}.${ext}`;
      await writeFileAtomic(join(dir, file), bytes(a));
      entry[key] = {
        file,
        dtype: a instanceof Float64Array ? 'float64' : 'float32',
        length: a.length,
      };
    };
    await put('inputNorms', 'norms.f32', cal.inputNorms);
    await put('gram', 'gram.f64', cal.gram);
    await put('meanGradient', 'grad.f32', cal.meanGradient);
    layers.push(entry);
    i++;
  }
  let sequential: CalibrationManifest['sequential'];
  if (data.sequential !== undefined) {
    const { samples, batchSize } = data.sequential;
    const files = { x: 'samples.x.f32', y: 'samples.y.i32', ids: 'samples.ids.i32' };
    await writeFileAtomic(join(dir, files.x), bytes(samples.x));
    await writeFileAtomic(join(dir, files.y), bytes(samples.y));
    await writeFileAtomic(join(dir, files.ids), bytes(samples.ids));
    sequential = { batchSize, files, lengths: { x: samples.x.length, y: samples.y.length } };
  }
  const manifest: CalibrationManifest = {
    format: CALIBRATION_FORMAT,
    version: 1,
    samples: data.samples,
    split: data.split,
    sampleIds: [...data.sampleIds],
    ...(data.provenance !== undefined
      ? {
          source: data.provenance.source,
          seed: data.provenance.seed,
          sampleShape: [...data.provenance.sampleShape],
        }
      : {}),
    ...(sequential !== undefined ? { sequential } : {}),
    layers,
  };
  await writeJsonAtomic(join(dir, 'calibration.json'), manifest);
  return manifest;
}

async function readStat(
  dir: string,
  s: StatFile | { file: string; dtype: 'int32'; length: number },
): Promise<Float32Array | Float64Array | Int32Array> {
  const path = join(dir, s.file);
  const width = s.dtype === 'float64' ? 8 : 4;
  let buf: Buffer;
  try {
    buf = await fs.readFile(path);
  } catch (e) {
    throw new ScalpelError(
      ErrorCode.Data,
      `calibration file ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      {
        hint: 'the calibration artifact is incomplete; rerun the calibrate stage with --force',
        cause: e,
      },
    );
  }
  if (buf.length !== s.length * width) {
    throw new ScalpelError(
      ErrorCode.Data,
      `calibration file ${path} holds ${buf.length} bytes, calibration.json describes ${s.length * width}`,
      {
        hint: 'the calibration artifact is corrupt; rerun the calibrate stage with --force',
      },
    );
  }
  const copy = new Uint8Array(buf.length);
  copy.set(buf);
  if (s.dtype === 'int32') return new Int32Array(copy.buffer);
  return s.dtype === 'float64' ? new Float64Array(copy.buffer) : new Float32Array(copy.buffer);
}

/** A calibration artifact as the prune stage sees it: statistics, and samples when sequential. */
export interface CalibrationArtifactData extends CalibrationData {
  readonly provenance?: CalibrationProvenance;
  readonly sequential?: SequentialCalibration;
}

/** Read a calibration artifact (or the directory holding one). */
export async function readCalibrationArtifact(
  artifact: Pick<Artifact, 'dir'> | string,
): Promise<CalibrationArtifactData> {
  assertLittleEndian('calibration artifacts');
  const dir = typeof artifact === 'string' ? artifact : artifact.dir;
  const jsonPath = join(dir, 'calibration.json');
  let m: CalibrationManifest;
  try {
    m = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as CalibrationManifest;
  } catch (e) {
    throw new ScalpelError(ErrorCode.Data, `${jsonPath} cannot be read: ${(e as Error).message}`, {
      hint: 'pass the output of a calibrate stage',
      cause: e,
    });
  }
  if (m.format !== CALIBRATION_FORMAT || m.version !== 1) {
    throw new ScalpelError(ErrorCode.Data, `${jsonPath} is not a scalpel calibration artifact`, {
      location: { file: jsonPath },
    });
  }
  const layers = new Map<string, LayerCalibration>();
  for (const e of m.layers) {
    const cal: LayerCalibration = { rows: e.rows };
    if (e.inputNorms !== undefined)
      cal.inputNorms = (await readStat(dir, e.inputNorms)) as Float32Array;
    if (e.gram !== undefined) cal.gram = (await readStat(dir, e.gram)) as Float64Array;
    if (e.meanGradient !== undefined)
      cal.meanGradient = (await readStat(dir, e.meanGradient)) as Float32Array;
    layers.set(e.name, cal);
  }
  const provenance =
    m.source !== undefined && m.seed !== undefined && m.sampleShape !== undefined
      ? { source: m.source, seed: m.seed, sampleShape: m.sampleShape }
      : undefined;
  let sequential: SequentialCalibration | undefined;
  if (m.sequential !== undefined) {
    const { files, lengths, batchSize } = m.sequential;
    const sampleShape = m.sampleShape ?? [];
    sequential = {
      batchSize,
      samples: {
        count: m.samples,
        sampleShape,
        x: (await readStat(dir, {
          file: files.x,
          dtype: 'float32',
          length: lengths.x,
        })) as Float32Array,
        y: (await readStat(dir, {
          file: files.y,
          dtype: 'int32',
          length: lengths.y,
        })) as Int32Array,
        ids: (await readStat(dir, {
          file: files.ids,
          dtype: 'int32',
          length: m.samples,
        })) as Int32Array,
      },
    };
  }
  return {
    samples: m.samples,
    sampleIds: m.sampleIds,
    split: m.split,
    layers,
    ...(provenance !== undefined ? { provenance } : {}),
    ...(sequential !== undefined ? { sequential } : {}),
  };
}
