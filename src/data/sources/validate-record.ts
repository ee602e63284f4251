// Feature checks shared by the sources that read records one by one (fashion-mnist JSON, csv,
// jsonl). A record is malformed when it has the wrong number of values, a value that is not a
// finite number (csv: not a number at all, or an empty cell), or — for 8-bit pixel data — a value
// that is not an integer in 0…255.
import type { MalformedReason } from '../malformed.js';

export interface FeatureProblem {
  reason: MalformedReason;
  detail: string;
}

/** Parse one csv cell strictly: '' and ' ' are not 0, '1e3' is 1000, '0x10' is rejected. */
export function parseNumberCell(cell: string): number {
  const t = cell.trim();
  if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return NaN;
  return Number(t);
}

/**
 * Check `values` (numbers, or csv cells as strings) and write them into `out` (length sampleSize).
 * Returns the first problem, or undefined when the record is fine.
 */
export function checkFeatures(
  values: readonly unknown[],
  sampleSize: number,
  pixels: boolean,
  out: Float64Array,
): FeatureProblem | undefined {
  if (values.length !== sampleSize) {
    return { reason: 'wrong-length', detail: `${values.length} values, expected ${sampleSize}` };
  }
  for (let k = 0; k < sampleSize; k++) {
    const raw = values[k];
    const v = typeof raw === 'number' ? raw : typeof raw === 'string' ? parseNumberCell(raw) : NaN;
    if (!Number.isFinite(v)) {
      return {
        reason: 'non-numeric',
        detail: `value ${k} is ${JSON.stringify(raw) ?? String(raw)}`,
      };
    }
    if (pixels && !(Number.isInteger(v) && v >= 0 && v <= 255)) {
      return {
        reason: 'out-of-range',
        detail: `value ${k} is ${v}, pixels must be integers 0–255 (set pixels: false for other features)`,
      };
    }
    out[k] = v;
  }
  return undefined;
}
