// A Hugging Face model directory as `save_pretrained` writes it: config.json, the weights in
// model.safetensors or in shards model-0000i-of-0000n.safetensors listed by
// model.safetensors.index.json, and optional tokenizer/generation files that travel with it.
// Only the files are handled here; what the config and tensors mean is the model family's job.
import { promises as fs } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import { invalidJson, readFailed, writeFailed } from '../../error-factories.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic-file.js';
import { isObject } from '../../util/is-object.js';
import {
  openSafetensors,
  shapeSize,
  streamedTensorsToWrite,
  writeSafetensorsStreamed,
  type FloatDtype,
  type SafetensorsDtype,
  type SafetensorsFile,
  type StreamedTensorToWrite,
  type TensorToWrite,
} from './safetensors.js';
import { dtypeSize } from './safetensors-header.js';

export const configFile = 'config.json';
export const singleWeightsFile = 'model.safetensors';
export const weightsIndexFile = 'model.safetensors.index.json';
/** Files besides config and weights that belong to a checkpoint, copied through when present. */
export const auxiliaryFiles = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
  'added_tokens.json',
  'vocab.json',
  'vocab.txt',
  'merges.txt',
  'tokenizer.model',
] as const;

/** An open checkpoint: config parsed, every weight file's header read, tensor data on disk. */
export interface HfCheckpoint {
  /** The directory, absolute. */
  readonly dir: string;
  /** config.json, parsed. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Absolute paths of every file that defines the model (config, weights, index, tokenizer…). */
  readonly files: readonly string[];
  /** Tensor data bytes read so far, over all weight files. */
  readonly bytesRead: number;
  /** All tensor names, sorted. */
  tensorNames(): string[];
  has(name: string): boolean;
  shapeOf(name: string): readonly number[];
  dtypeOf(name: string): SafetensorsDtype;
  /** One tensor's values as float32, read from the weight file that holds it. */
  read(name: string): Promise<Float32Array>;
  /** As {@link read}, synchronously. */
  readSync(name: string): Float32Array;
  /** As {@link readSync}, into `dst` (SafetensorsFile.readIntoSync: no copy of the tensor). */
  readIntoSync(name: string, dst: Float32Array): void;
  close(): Promise<void>;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** True when `path` is a directory holding config.json (what marks a Hugging Face checkpoint). */
export async function isHfCheckpointDir(path: string): Promise<boolean> {
  return (await isDirectory(path)) && (await isFile(join(path, configFile)));
}

async function readJsonObject(file: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw readFailed(file, e, { what });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalidJson(file, e, {
      hint: `the ${what} is corrupt; fetch or export the checkpoint again`,
    });
  }
  if (!isObject(json)) {
    throw new ScalpelError(ErrorCode.Data, `${file} is not a JSON object`, {
      location: { file },
      hint: `the ${what} is corrupt; fetch or export the checkpoint again`,
    });
  }
  return json;
}

function badIndex(file: string, what: string): ScalpelError {
  return new ScalpelError(ErrorCode.Data, `${file}: ${what}`, {
    location: { file },
    hint: 'the index and the shard files do not belong together; fetch the checkpoint again',
  });
}

/** The shard files named by an index's weight_map, in first-mention order. */
async function readIndex(file: string): Promise<Map<string, string>> {
  const index = await readJsonObject(file, 'weights index');
  const map = index.weight_map;
  if (!isObject(map)) throw badIndex(file, 'has no "weight_map" object');
  const routes = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(map)) {
    // a shard must be a plain file next to the index: never a path that leaves the directory
    if (typeof shard !== 'string' || shard === '' || basename(shard) !== shard || shard === '..') {
      throw badIndex(
        file,
        `weight_map entry '${tensor}' names ${JSON.stringify(shard)}, not a file in the directory`,
      );
    }
    routes.set(tensor, shard);
  }
  return routes;
}

/** Open every shard the index names; check each tensor lives in exactly the shard it says. */
async function openShards(
  dir: string,
  indexPath: string,
): Promise<{ shards: SafetensorsFile[]; owner: Map<string, SafetensorsFile> }> {
  const routes = await readIndex(indexPath);
  const shards: SafetensorsFile[] = [];
  const owner = new Map<string, SafetensorsFile>();
  try {
    for (const shardName of new Set(routes.values())) {
      const path = join(dir, shardName);
      if (!(await isFile(path))) {
        const tensor = [...routes].find(([, s]) => s === shardName)?.[0] ?? '';
        throw new ScalpelError(
          ErrorCode.Io,
          `shard ${shardName} named in ${indexPath} (for tensor '${tensor}') is missing from ${dir}`,
          {
            location: { file: indexPath },
            hint: 'the download is incomplete: fetch every model-*-of-*.safetensors file',
          },
        );
      }
      const shard = await openSafetensors(path);
      shards.push(shard);
      for (const name of shard.names) {
        const other = owner.get(name);
        if (other !== undefined) {
          throw badIndex(
            indexPath,
            `tensor '${name}' is in two shards: ${basename(other.path)} and ${shardName}`,
          );
        }
        if (routes.get(name) !== shardName) {
          throw badIndex(
            indexPath,
            `tensor '${name}' is in ${shardName} but weight_map puts it in ${routes.get(name) ?? 'no shard'}`,
          );
        }
        owner.set(name, shard);
      }
    }
    for (const [tensor, shardName] of routes) {
      if (!owner.has(tensor)) {
        throw badIndex(
          indexPath,
          `weight_map puts tensor '${tensor}' in ${shardName}, which does not hold it`,
        );
      }
    }
  } catch (e) {
    await Promise.all(shards.map((s) => s.close()));
    throw e;
  }
  return { shards, owner };
}

/** Open the checkpoint in `dir`: parse config.json, read every weight file's header. */
export async function openCheckpoint(dirPath: string): Promise<HfCheckpoint> {
  const dir = resolve(dirPath);
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch (e) {
    throw new ScalpelError(ErrorCode.Io, `checkpoint directory not found: ${dir}`, {
      location: { file: dir },
      hint: 'check the path (a Hugging Face model directory with config.json and *.safetensors)',
      cause: e,
    });
  }
  if (!stat.isDirectory()) {
    throw new ScalpelError(
      ErrorCode.Io,
      `${dir} is not a directory: expected a Hugging Face checkpoint directory`,
      {
        location: { file: dir },
        hint: 'give the directory that holds config.json, not a file in it',
      },
    );
  }
  const configPath = join(dir, configFile);
  if (!(await isFile(configPath))) {
    throw new ScalpelError(
      ErrorCode.Io,
      `no ${configFile} in ${dir}: a Hugging Face checkpoint needs one`,
      {
        location: { file: configPath },
        hint: 'save the model with save_pretrained(), which writes config.json next to the weights',
      },
    );
  }
  const config = await readJsonObject(configPath, 'model config');

  const singlePath = join(dir, singleWeightsFile);
  const indexPath = join(dir, weightsIndexFile);
  let shards: SafetensorsFile[];
  let owner: Map<string, SafetensorsFile>;
  const files = [configPath];
  // transformers prefers the single file when both exist; so do we
  if (await isFile(singlePath)) {
    const file = await openSafetensors(singlePath);
    shards = [file];
    owner = new Map(file.names.map((n) => [n, file]));
    files.push(singlePath);
  } else if (await isFile(indexPath)) {
    ({ shards, owner } = await openShards(dir, indexPath));
    files.push(indexPath, ...shards.map((s) => s.path));
  } else {
    const hasBin = await isFile(join(dir, 'pytorch_model.bin'));
    throw new ScalpelError(
      ErrorCode.Io,
      `no weights in ${dir}: expected ${singleWeightsFile} or ${weightsIndexFile} with its shards`,
      {
        location: { file: dir },
        hint: hasBin
          ? 'pytorch_model.bin (pickle) is not supported: convert the weights to model.safetensors (save_pretrained(dir, safe_serialization=True))'
          : 'the download is incomplete or the directory is not a Hugging Face checkpoint',
      },
    );
  }
  for (const name of auxiliaryFiles) if (await isFile(join(dir, name))) files.push(join(dir, name));

  const names = [...owner.keys()].sort();
  const fileOf = (name: string): SafetensorsFile => {
    const f = owner.get(name);
    if (f === undefined) {
      throw new ScalpelError(ErrorCode.Data, `checkpoint ${dir} has no tensor '${name}'`, {
        location: { file: dir },
        hint: `it holds ${names.length} tensors${names.length > 0 ? `, e.g. '${names.slice(0, 3).join("', '")}'` : ''}`,
      });
    }
    return f;
  };
  return {
    dir,
    config,
    files,
    get bytesRead() {
      return shards.reduce((n, s) => n + s.bytesRead, 0);
    },
    tensorNames: () => [...names],
    has: (name) => owner.has(name),
    shapeOf: (name) => fileOf(name).entry(name).shape,
    dtypeOf: (name) => fileOf(name).entry(name).dtype,
    read: async (name) => fileOf(name).read(name),
    readSync: (name) => fileOf(name).readSync(name),
    readIntoSync: (name, dst) => fileOf(name).readIntoSync(name, dst),
    async close() {
      await Promise.all(shards.map((s) => s.close()));
    },
  };
}

export interface WriteCheckpointOptions {
  /** Written as config.json. */
  config: Readonly<Record<string, unknown>>;
  /**
   * In memory (`data`) or streamed (`values()`, called once when its shard is written, so a
   * model's tensors need not all exist as copies at once).
   */
  tensors: readonly (TensorToWrite | StreamedTensorToWrite)[];
  /** Storage dtype of tensors that do not say their own (default F32). */
  dtype?: FloatDtype;
  /** A checkpoint directory whose tokenizer/generation files are copied over. */
  copyFrom?: string;
  /** Largest shard in tensor bytes; more than this in total gives shards and an index. */
  shardBytes?: number;
}

/** Greedy sharding in name order, as huggingface_hub does: a new shard when the next would overflow. */
function planShards(
  tensors: readonly StreamedTensorToWrite[],
  maxBytes: number,
): StreamedTensorToWrite[][] {
  const sorted = [...tensors].sort((a, b) =>
    Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)),
  );
  const shards: StreamedTensorToWrite[][] = [];
  let current: StreamedTensorToWrite[] = [];
  let size = 0;
  for (const t of sorted) {
    const bytes = shapeSize(t.shape) * dtypeSize[t.dtype ?? 'F32'];
    if (current.length > 0 && size + bytes > maxBytes) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(t);
    size += bytes;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}

async function requireEmptyDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
    const entries = await fs.readdir(dir);
    if (entries.length > 0) {
      throw new ScalpelError(
        ErrorCode.Io,
        `cannot write a checkpoint into ${dir}: the directory is not empty`,
        {
          location: { file: dir },
          hint: 'write into a fresh directory so old and new files never mix',
        },
      );
    }
  } catch (e) {
    if (e instanceof ScalpelError) throw e;
    throw new ScalpelError(
      ErrorCode.Io,
      `cannot create checkpoint directory ${dir}: ${(e as Error).message}`,
      {
        location: { file: dir },
        hint: 'check that the parent directory is writable',
        cause: e,
      },
    );
  }
}

/**
 * Write a checkpoint into `dir` (created if missing, and required to be empty). Every file is
 * written atomically and config.json goes last, so an interrupted write never looks like a
 * checkpoint ({@link isHfCheckpointDir} keys on config.json). Returns the files written.
 */
export async function writeCheckpoint(
  dirPath: string,
  options: WriteCheckpointOptions,
): Promise<string[]> {
  const dir = resolve(dirPath);
  try {
    return await writeFiles(dir, options);
  } catch (e) {
    if (e instanceof ScalpelError) throw e;
    throw writeFailed(dir, e, { what: 'checkpoint' });
  }
}

async function writeFiles(dir: string, options: WriteCheckpointOptions): Promise<string[]> {
  const { shardBytes } = options;
  if (shardBytes !== undefined && !(Number.isSafeInteger(shardBytes) && shardBytes > 0)) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `writeCheckpoint: shardBytes must be a positive integer, got ${shardBytes}`,
    );
  }
  // Checked here too: duplicates could land in different shards.
  const tensors = streamedTensorsToWrite(options.tensors, dir).map((t) => ({
    ...t,
    dtype: t.dtype ?? options.dtype ?? 'F32',
  }));
  const copyFrom = options.copyFrom === undefined ? undefined : resolve(options.copyFrom);
  if (copyFrom !== undefined && !(await isDirectory(copyFrom))) {
    throw new ScalpelError(
      ErrorCode.Io,
      `cannot copy tokenizer files: ${copyFrom} is not a directory`,
      {
        location: { file: copyFrom },
        hint: 'copyFrom must be the checkpoint directory the model was loaded from',
      },
    );
  }
  await requireEmptyDir(dir);
  const written: string[] = [];
  const metadata = { format: 'pt' }; // transformers refuses safetensors files without it

  const shards = planShards(tensors, shardBytes ?? Infinity);
  if (shards.length === 1) {
    await writeSafetensorsStreamed(join(dir, singleWeightsFile), shards[0] ?? [], metadata);
    written.push(join(dir, singleWeightsFile));
  } else {
    const n = String(shards.length).padStart(5, '0');
    const weightMap: Record<string, string> = Object.create(null) as Record<string, string>;
    let totalSize = 0;
    for (const [i, shard] of shards.entries()) {
      const name = `model-${String(i + 1).padStart(5, '0')}-of-${n}.safetensors`;
      await writeSafetensorsStreamed(join(dir, name), shard, metadata);
      written.push(join(dir, name));
      for (const t of shard) {
        weightMap[t.name] = name;
        totalSize += shapeSize(t.shape) * dtypeSize[t.dtype ?? 'F32'];
      }
    }
    await writeJsonAtomic(join(dir, weightsIndexFile), {
      metadata: { total_size: totalSize },
      weight_map: weightMap,
    });
    written.push(join(dir, weightsIndexFile));
  }

  if (copyFrom !== undefined) {
    for (const name of auxiliaryFiles) {
      const src = join(copyFrom, name);
      if (!(await isFile(src))) continue;
      await writeFileAtomic(join(dir, name), await fs.readFile(src));
      written.push(join(dir, name));
    }
  }
  await writeJsonAtomic(join(dir, configFile), options.config);
  written.push(join(dir, configFile));
  return written;
}
