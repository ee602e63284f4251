// Bookkeeping for malformed records. By default they are skipped and counted per split and
// reason, remembering where the first one of each reason was, so the warning can say "2 records
// of the wrong length (first: 0.json record 1000: 0 values, expected 784)". With `strict` the first
// one is an error naming file and record instead. Nothing is ever padded or truncated.
import { ErrorCode, ScalpelError } from '../errors.js';

export type MalformedReason =
  | 'wrong-length'
  | 'non-numeric'
  | 'out-of-range'
  | 'missing-label'
  | 'bad-label'
  | 'invalid-record';

const reasonText: Record<MalformedReason, string> = {
  'wrong-length': 'wrong number of features',
  'non-numeric': 'non-numeric feature value',
  'out-of-range': 'feature value out of range',
  'missing-label': 'missing label',
  'bad-label': 'label not a known class',
  'invalid-record': 'unparsable record',
};

/** Where a record is: `record` is 0-based in file order, `line` 1-based when the file has lines. */
export interface RecordPosition {
  file: string;
  record: number;
  line?: number;
}

export interface MalformedFirst extends RecordPosition {
  detail: string;
}

export interface SplitSkips {
  total: number;
  byReason: Partial<Record<MalformedReason, number>>;
  first: Partial<Record<MalformedReason, MalformedFirst>>;
}

export function formatPosition(p: RecordPosition): string {
  return p.line !== undefined
    ? `${p.file}:${p.line} (record ${p.record})`
    : `${p.file} record ${p.record}`;
}

export class MalformedRecords {
  private readonly splits = new Map<string, SplitSkips>();

  constructor(readonly strict: boolean) {}

  /** Count a malformed record of `split` (or throw E_DATA in strict mode). */
  report(split: string, reason: MalformedReason, pos: RecordPosition, detail: string): void {
    if (this.strict) {
      throw new ScalpelError(
        ErrorCode.Data,
        `malformed record at ${formatPosition(pos)}: ${reasonText[reason]} (${detail})`,
        {
          location: { file: pos.file, ...(pos.line !== undefined ? { line: pos.line } : {}) },
          hint: 'fix or remove the record, or set strict: false to skip malformed records with a warning',
        },
      );
    }
    let s = this.splits.get(split);
    if (s === undefined) {
      s = { total: 0, byReason: {}, first: {} };
      this.splits.set(split, s);
    }
    s.total++;
    s.byReason[reason] = (s.byReason[reason] ?? 0) + 1;
    if (s.first[reason] === undefined) s.first[reason] = { ...pos, detail };
  }

  /** Skips of one split (zero counts when there were none). */
  of(split: string): SplitSkips {
    return this.splits.get(split) ?? { total: 0, byReason: {}, first: {} };
  }

  get total(): number {
    let n = 0;
    for (const s of this.splits.values()) n += s.total;
    return n;
  }

  /** One warning line per split with skips, e.g. "train: skipped 2 malformed records: …". */
  warnings(): string[] {
    const out: string[] = [];
    for (const [name, s] of this.splits) {
      const parts = (Object.keys(s.byReason) as MalformedReason[]).map((r) => {
        const first = s.first[r];
        const where =
          first !== undefined ? ` (first: ${formatPosition(first)}: ${first.detail})` : '';
        return `${s.byReason[r] ?? 0} × ${reasonText[r]}${where}`;
      });
      out.push(
        `${name}: skipped ${s.total} malformed record${s.total === 1 ? '' : 's'}: ${parts.join('; ')}`,
      );
    }
    return out;
  }
}
