// Keep-masks on disk: `masks.json` (layer → shape, offset) + `masks.bin`, one bit per weight
// (LSB first within a byte, each layer starting on a byte boundary). 1 = kept, 0 = pruned.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-file.js';

export interface MaskIndexEntry {
  name: string;
  shape: number[];
  /** Byte offset in masks.bin. */
  offset: number;
  /** Number of weights (bits). */
  count: number;
  /** Fraction of kept weights. */
  density: number;
}
export interface MaskIndex {
  format: 'scalpel-masks';
  version: 1;
  bitOrder: 'lsb-first';
  layers: MaskIndexEntry[];
}

export function packBits(mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(mask.length / 8));
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

export function unpackBits(bits: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (bits[i >> 3]! >> (i & 7)) & 1;
  return out;
}

export function maskDensity(mask: Uint8Array): number {
  let kept = 0;
  for (let i = 0; i < mask.length; i++) kept += mask[i]!;
  return mask.length === 0 ? 1 : kept / mask.length;
}

export async function writeMasks(
  dir: string,
  masks: ReadonlyMap<string, Uint8Array>,
  shapes: ReadonlyMap<string, readonly number[]>,
): Promise<MaskIndex> {
  const layers: MaskIndexEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, mask] of masks) {
    const packed = packBits(mask);
    layers.push({
      name,
      shape: [...(shapes.get(name) ?? [mask.length])],
      offset,
      count: mask.length,
      density: maskDensity(mask),
    });
    chunks.push(packed);
    offset += packed.length;
  }
  const bin = new Uint8Array(offset);
  let o = 0;
  for (const c of chunks) {
    bin.set(c, o);
    o += c.length;
  }
  const index: MaskIndex = { format: 'scalpel-masks', version: 1, bitOrder: 'lsb-first', layers };
  await writeFileAtomic(join(dir, 'masks.bin'), bin);
  await writeJsonAtomic(join(dir, 'masks.json'), index);
  return index;
}

export async function readMasks(dir: string): Promise<Map<string, Uint8Array>> {
  const index = JSON.parse(await fs.readFile(join(dir, 'masks.json'), 'utf8')) as MaskIndex;
  if (index.format !== 'scalpel-masks') {
    throw new ScalpelError(
      ErrorCode.Data,
      `${join(dir, 'masks.json')} is not a scalpel mask index`,
    );
  }
  const bin = new Uint8Array(await fs.readFile(join(dir, 'masks.bin')));
  const masks = new Map<string, Uint8Array>();
  for (const e of index.layers) {
    const bytes = Math.ceil(e.count / 8);
    if (e.offset + bytes > bin.length) {
      throw new ScalpelError(
        ErrorCode.Data,
        `masks.bin in ${dir} is truncated (layer '${e.name}')`,
        { layer: e.name },
      );
    }
    masks.set(e.name, unpackBits(bin.subarray(e.offset, e.offset + bytes), e.count));
  }
  return masks;
}
