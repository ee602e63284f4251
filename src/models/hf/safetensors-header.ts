// The JSON header of a safetensors file, parsed and checked against the format's rules (the
// ones the reference Rust implementation enforces): every tensor has a known dtype, a shape of
// non-negative integers and data offsets whose length is shape × dtype size; the data regions,
// taken in offset order, start at 0, follow each other without gap or overlap and end exactly at
// the end of the file. Anything else is a corrupt or truncated file.
import { ErrorCode, ScalpelError } from '../../errors.js';
import { isObject } from '../../util/is-object.js';

/** Bytes per element of each dtype the format defines (sub-byte F4/F6 types are not supported). */
export const dtypeSize = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;
export type SafetensorsDtype = keyof typeof dtypeSize;

/** The reference implementation refuses headers above 100 MB; so do we (no giant allocations). */
export const maxHeaderBytes = 100_000_000;

export interface SafetensorsEntry {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** [begin, end) relative to the first byte after the header. */
  readonly dataOffsets: readonly [number, number];
}

export interface SafetensorsHeader {
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Readonly<Record<string, string>>;
}

function corrupt(file: string, what: string, tensor?: string): ScalpelError {
  const where = tensor === undefined ? '' : ` (tensor '${tensor}')`;
  return new ScalpelError(
    ErrorCode.Data,
    `${file} is not a valid safetensors file${where}: ${what}`,
    {
      location: { file },
      hint: 'the file is corrupt or truncated (an interrupted download or copy?); fetch it again',
    },
  );
}

function isDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(dtypeSize, s);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function parseEntry(file: string, name: string, raw: unknown): SafetensorsEntry {
  if (!isObject(raw)) throw corrupt(file, 'the header entry is not an object', name);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (!isDtype(dtype)) {
    throw corrupt(file, `unknown or unsupported dtype ${JSON.stringify(dtype)}`, name);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw corrupt(
      file,
      `shape ${JSON.stringify(shape)} is not a list of non-negative integers`,
      name,
    );
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw corrupt(file, `data_offsets ${JSON.stringify(offsets)} is not [begin, end]`, name);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin)
    throw corrupt(file, `data_offsets [${begin}, ${end}] end before they begin`, name);
  const elements = shape.reduce((a, b) => a * b, 1);
  const bytes = elements * dtypeSize[dtype];
  if (bytes !== end - begin) {
    throw corrupt(
      file,
      `shape [${shape.join(', ')}] of ${dtype} needs ${bytes} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
      name,
    );
  }
  return { dtype, shape: shape, dataOffsets: [begin, end] };
}

function parseMetadata(file: string, raw: unknown): Record<string, string> {
  if (!isObject(raw) || !Object.values(raw).every((v) => typeof v === 'string')) {
    throw corrupt(file, '__metadata__ is not a map of strings');
  }
  return raw as Record<string, string>;
}

/**
 * Parse the header bytes of `file` (the N bytes after the length prefix), given how many data
 * bytes follow the header, and check that the tensors exactly tile those bytes.
 */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataBytes: number,
  file: string,
): SafetensorsHeader {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (e) {
    throw corrupt(file, `the header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!isObject(json)) throw corrupt(file, 'the header is not a JSON object');
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') metadata = parseMetadata(file, raw);
    else entries.set(name, parseEntry(file, name, raw));
  }
  // Regions in file order must tile [0, dataBytes): any gap, overlap or overhang is corruption.
  const ordered = [...entries].sort(
    ([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1],
  );
  let next = 0;
  for (const [name, { dataOffsets }] of ordered) {
    const [begin, end] = dataOffsets;
    if (end > dataBytes) {
      throw corrupt(
        file,
        `data_offsets [${begin}, ${end}] run past the ${dataBytes} data bytes in the file (truncated?)`,
        name,
      );
    }
    if (begin < next) {
      throw corrupt(
        file,
        `data_offsets [${begin}, ${end}] overlap the previous tensor's data`,
        name,
      );
    }
    if (begin > next) {
      throw corrupt(
        file,
        `data_offsets [${begin}, ${end}] leave a gap after byte ${next}: the data is not contiguous`,
        name,
      );
    }
    next = end;
  }
  if (next !== dataBytes) {
    throw corrupt(
      file,
      `the tensors hold ${next} bytes but ${dataBytes} data bytes follow the header`,
    );
  }
  return { entries, metadata };
}
