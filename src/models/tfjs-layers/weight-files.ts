// The byte sizes a tfjs model.json's weightsManifest implies for its binary weight files, and the
// check that the files on disk have them. inspect runs the check at validate time (from the
// sizes alone, nothing is read), so a truncated or foreign weights.bin is a recipe error (exit 2)
// instead of a failure after the run started.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';

/** One weightsManifest entry as model.json stores it (quantization changes the stored dtype). */
export interface ManifestEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly quantization?: { readonly dtype?: string };
}

/** One weightsManifest group: its entries are stored, in order, across `paths` concatenated. */
export interface ManifestGroup {
  readonly paths: readonly string[];
  readonly weights: readonly ManifestEntry[];
}

const dtypeBytes: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/** Bytes a weight entry occupies in the binary files (quantization included). */
export function entryBytes(entry: ManifestEntry): number {
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const dtype = entry.quantization?.dtype ?? entry.dtype;
  const size = dtypeBytes[dtype];
  if (size === undefined) {
    throw new ScalpelError(
      ErrorCode.Data,
      `weight '${entry.name}' has unsupported dtype '${dtype}'`,
      {
        layer: entry.name,
        hint: `supported weight dtypes: ${Object.keys(dtypeBytes).join(', ')}`,
      },
    );
  }
  return count * size;
}

/** Bytes the group's files must hold together. */
export function groupBytes(group: ManifestGroup): number {
  return group.weights.reduce((n, w) => n + entryBytes(w), 0);
}

/**
 * Throws E_DATA when a group's weight files (next to model.json, in `dir`) hold a different number
 * of bytes than the manifest describes. A missing file is left to the caller's hashing, which
 * names it as E_IO.
 */
export async function checkWeightFileSizes(
  dir: string,
  groups: readonly ManifestGroup[],
  shown: string,
): Promise<void> {
  for (const group of groups) {
    let total = 0;
    for (const p of group.paths) {
      const stats = await fs.stat(join(dir, p)).catch(() => undefined);
      if (stats?.isFile() !== true) return;
      total += stats.size;
    }
    const expected = groupBytes(group);
    if (total === expected) continue;
    const first = group.weights[0]?.name;
    throw new ScalpelError(
      ErrorCode.Data,
      `weight file${group.paths.length === 1 ? '' : 's'} ${group.paths.join(', ')} of ${shown} hold${group.paths.length === 1 ? 's' : ''} ${total} bytes but its weightsManifest describes ${expected}` +
        ` (${group.weights.length} weights${first !== undefined ? ` from '${first}'` : ''}): ${total < expected ? 'truncated' : 'too long, or not this model’s weights'}`,
      {
        hint: 'copy the weight files again (an interrupted download or copy?) or re-export the model; model.json and its weight files must come from the same save',
      },
    );
  }
}
