// Typed reads of a Hugging Face config.json's fields with HF's defaults, each failure an E_DATA
// naming the file and the field: shared by the causal-LM (hf-config.ts) and vision (vit-config.ts)
// config parsers.
import { ErrorCode, ScalpelError } from '../../errors.js';

export type Json = Record<string, unknown>;

/** Reads fields of one config object, throwing E_DATA that names the file and the field. */
export class ConfigFields {
  /** The fields of `json`, which must be a JSON object (else E_DATA naming `file`). */
  static of(json: unknown, file: string): { fields: ConfigFields; json: Json } {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new ScalpelError(
        ErrorCode.Data,
        `${file}: a Hugging Face config must be a JSON object`,
        {
          location: { file },
          hint: 'point load-model at the directory holding config.json and the weights',
        },
      );
    }
    return { fields: new ConfigFields(json as Json, file), json: json as Json };
  }

  constructor(
    private readonly json: Json,
    private readonly file: string,
  ) {}

  fail(message: string, hint: string): never {
    throw new ScalpelError(ErrorCode.Data, `${this.file}: ${message}`, {
      location: { file: this.file },
      hint,
    });
  }

  private present(key: string): unknown {
    const v = this.json[key];
    return v === null ? undefined : v;
  }

  int(key: string, fallback?: number): number {
    const v = this.present(key) ?? fallback;
    if (v === undefined)
      this.fail(`'${key}' is missing`, 'use the config.json saved with the checkpoint');
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      this.fail(`'${key}' must be a positive integer, got ${JSON.stringify(v)}`, 'fix config.json');
    }
    return v;
  }

  positive(key: string, fallback?: number): number {
    const v = this.present(key) ?? fallback;
    if (v === undefined)
      this.fail(`'${key}' is missing`, 'use the config.json saved with the checkpoint');
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
      this.fail(`'${key}' must be a positive number, got ${JSON.stringify(v)}`, 'fix config.json');
    }
    return v;
  }

  rate(key: string): number {
    const v = this.present(key) ?? 0;
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) {
      this.fail(
        `'${key}' must be a dropout rate in [0, 1), got ${JSON.stringify(v)}`,
        'fix config.json',
      );
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.present(key) ?? fallback;
    if (typeof v !== 'boolean')
      this.fail(`'${key}' must be true or false, got ${JSON.stringify(v)}`, 'fix config.json');
    return v;
  }

  /** The field must be absent, null or equal `expected`. */
  only(key: string, expected: unknown, what: string): void {
    const v = this.present(key);
    if (v !== undefined && v !== expected) {
      this.fail(
        `${what} ('${key}': ${JSON.stringify(v)}) is not supported yet`,
        'scalpel runs the plain architecture only; use a checkpoint without it',
      );
    }
  }
}
