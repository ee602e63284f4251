// Label encoding: raw labels (numbers or strings from a file) → class indices 0 … numClasses−1.
//  - `labelMap` given: the label (as a string) must be a key of it.
//  - `classes` given: a string label must be one of the names, a numeric label an index into it.
//  - neither: the label must be a non-negative integer (below `numClasses` when that is given).
export interface LabelEncoding {
  classes?: readonly string[] | undefined;
  labelMap?: Readonly<Record<string, number>> | undefined;
  numClasses?: number | undefined;
}

export type EncodedLabel =
  { ok: true; label: number } | { ok: false; missing: boolean; detail: string };

const integerText = /^[+-]?\d+$/;

export class LabelEncoder {
  private readonly byName: Map<string, number> | undefined;
  /** The bound labels must stay below, when known before loading. */
  readonly declaredClasses: number | undefined;

  constructor(private readonly enc: LabelEncoding) {
    if (enc.labelMap !== undefined) {
      this.byName = new Map(Object.entries(enc.labelMap));
      this.declaredClasses =
        enc.numClasses ?? enc.classes?.length ?? Math.max(-1, ...this.byName.values()) + 1;
    } else if (enc.classes !== undefined) {
      this.byName = new Map(enc.classes.map((c, i) => [c, i]));
      this.declaredClasses = enc.classes.length;
    } else {
      this.byName = undefined;
      this.declaredClasses = enc.numClasses;
    }
  }

  encode(raw: unknown): EncodedLabel {
    if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
      return { ok: false, missing: true, detail: 'no label' };
    }
    if (typeof raw !== 'string' && typeof raw !== 'number') {
      return {
        ok: false,
        missing: false,
        detail: `label ${JSON.stringify(raw)} is neither a number nor a string`,
      };
    }
    const text = String(raw).trim();
    if (this.enc.labelMap !== undefined) {
      const v = this.byName?.get(text);
      return v !== undefined
        ? this.checkRange(v, text)
        : { ok: false, missing: false, detail: `label '${text}' is not in labelMap` };
    }
    const named = this.byName?.get(text);
    if (named !== undefined) return { ok: true, label: named };
    const n = typeof raw === 'number' ? raw : integerText.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(n) || n < 0) {
      return {
        ok: false,
        missing: false,
        detail:
          this.byName !== undefined
            ? `label '${text}' is not one of the classes`
            : `label '${text}' is not a non-negative integer`,
      };
    }
    return this.checkRange(n, text);
  }

  private checkRange(v: number, text: string): EncodedLabel {
    if (this.declaredClasses !== undefined && v >= this.declaredClasses) {
      return {
        ok: false,
        missing: false,
        detail: `label '${text}' is outside the ${this.declaredClasses} classes`,
      };
    }
    return { ok: true, label: v };
  }
}
