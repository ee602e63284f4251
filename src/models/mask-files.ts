// Keep-masks on disk: `masks.json` (layer → shape, offset) + `masks.bin`, one bit per weight
// (LSB first within a byte, each layer starting on a byte boundary). 1 = kept, 0 = pruned.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { badData, invalidJson, readFailed } from '../error-factories.js';
import { isObject } from '../util/is-object.js';
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

const maskHint = 'the model artifact is corrupt; run the stage that wrote it again (with --force)';

/** Reads `what` at `path`, as E_IO naming it when that fails. */
async function readOrFail(path: string, what: string): Promise<Buffer> {
  try {
    return await fs.readFile(path);
  } catch (e) {
    throw readFailed(path, e, { what, hint: maskHint });
  }
}

/** The index in masks.json, checked entry by entry (a located E_DATA when it is not one). */
function parseIndex(text: string, path: string): MaskIndex {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalidJson(path, e, { hint: maskHint });
  }
  if (!isObject(json) || json['format'] !== 'scalpel-masks' || !Array.isArray(json['layers']))
    throw badData(path, 'not a scalpel mask index', { hint: maskHint });
  json['layers'].forEach((e: unknown, i) => {
    const ok =
      isObject(e) &&
      typeof e['name'] === 'string' &&
      Number.isInteger(e['offset']) &&
      (e['offset'] as number) >= 0 &&
      Number.isInteger(e['count']) &&
      (e['count'] as number) >= 0;
    if (!ok) throw badData(path, `layers[${i}] is not { name, offset, count }`, { hint: maskHint });
  });
  return json as unknown as MaskIndex;
}

export async function readMasks(dir: string): Promise<Map<string, Uint8Array>> {
  const jsonPath = join(dir, 'masks.json');
  const binPath = join(dir, 'masks.bin');
  const index = parseIndex((await readOrFail(jsonPath, 'mask index')).toString('utf8'), jsonPath);
  const bin = new Uint8Array(await readOrFail(binPath, 'mask file'));
  const masks = new Map<string, Uint8Array>();
  for (const e of index.layers) {
    const bytes = Math.ceil(e.count / 8);
    if (e.offset + bytes > bin.length) {
      throw badData(
        binPath,
        `truncated: the mask of layer '${e.name}' needs ${bytes} bytes, the file holds ${Math.max(0, bin.length - e.offset)}`,
        { offset: e.offset, layer: e.name, hint: maskHint },
      );
    }
    masks.set(e.name, unpackBits(bin.subarray(e.offset, e.offset + bytes), e.count));
  }
  return masks;
}
