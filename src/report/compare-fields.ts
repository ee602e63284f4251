// The fields `compare --group-by` and `--filter` name: the built-in ones (name, method, density,
// path — the density path of rounds, seed) and every lineage parameter, by its full key (`prune.k`) or any unambiguous tail of it
// (`k`, `layerDensities.lambda`). Filters are `<field><op><value>[,<value>…]` with op one of
// = != < <= > >=; a comma lists alternatives (`method=icbs,wanda`).
import { ErrorCode, ScalpelError } from '../errors.js';
import { suggestionHint } from '../suggest.js';
import type { EvalRow } from './collect.js';
import type { ParamValue } from './lineage.js';
import { densityPathText } from './rounds.js';

export const builtinFields = ['name', 'method', 'density', 'path', 'seed'] as const;
export type BuiltinField = (typeof builtinFields)[number];

export function isBuiltinField(f: string): f is BuiltinField {
  return (builtinFields as readonly string[]).includes(f);
}

/** A row's value of a field; undefined when its lineage has no such parameter. */
export function fieldValue(row: EvalRow, field: string): ParamValue | undefined {
  switch (field) {
    case 'name':
      return row.name;
    case 'method':
      return row.method;
    case 'density':
      return row.density;
    case 'seed':
      return row.seed;
    case 'path':
      return densityPathText(row.densityPath ?? [{ density: row.density }]);
    default:
      return row.lineage.params[field];
  }
}

/** Every parameter key some row has. */
export function paramKeys(rows: readonly EvalRow[]): string[] {
  const out = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.lineage.params)) out.add(k);
  return [...out].sort();
}

/**
 * The full key a user's field name stands for (`k` → `prune.k`). A tail that several keys end
 * with means the one that varies between rows (the column the table shows), if only one does.
 */
export function resolveField(
  name: string,
  keys: readonly string[],
  option: string,
  varying: readonly string[] = [],
): string {
  if (isBuiltinField(name) || keys.includes(name)) return name;
  const all = keys.filter((k) => k.endsWith(`.${name}`));
  const shown = all.filter((k) => varying.includes(k));
  const tails = shown.length === 1 ? shown : all;
  if (tails.length === 1 && tails[0] !== undefined) return tails[0];
  if (tails.length > 1) {
    throw new ScalpelError(ErrorCode.Usage, `${option} '${name}' is ambiguous`, {
      hint: `it matches ${tails.map((t) => `'${t}'`).join(', ')}: write the full name`,
    });
  }
  throw new ScalpelError(ErrorCode.Usage, `${option} '${name}' is not a field of these results`, {
    hint: suggestionHint(
      name,
      [...new Set([...builtinFields, ...keys.map((k) => k.slice(k.lastIndexOf('.') + 1))])],
      'field',
    ),
  });
}

export type FilterOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export interface Filter {
  readonly text: string;
  /** As written; resolved against the rows by compareTable. */
  readonly field: string;
  readonly op: FilterOp;
  readonly values: readonly string[];
}

const filterPattern = /^\s*([^=!<>\s]+)\s*(!=|<=|>=|=|<|>)\s*(.*?)\s*$/;

export function parseFilter(text: string): Filter {
  const m = filterPattern.exec(text);
  const [, field, op, rest] = m ?? [];
  if (field === undefined || op === undefined || rest === undefined || rest === '') {
    throw new ScalpelError(ErrorCode.Usage, `--filter '${text}' is not <field><op><value>`, {
      hint: "write e.g. --filter method=icbs, --filter 'density<=0.5' or --filter name!=dense (ops: = != < <= > >=; a comma lists alternatives)",
    });
  }
  const values = rest.split(',').map((v) => v.trim());
  if (op !== '=' && op !== '!=' && (values.length !== 1 || !Number.isFinite(Number(values[0])))) {
    throw new ScalpelError(ErrorCode.Usage, `--filter '${text}': ${op} needs one number`, {
      hint: `write e.g. --filter '${field}${op}0.5'`,
    });
  }
  return { text, field, op: op as FilterOp, values };
}

/** Numbers compare as numbers (0.5 = 0.50); everything else as its text. */
function equals(v: ParamValue, text: string): boolean {
  if (typeof v === 'number' && text.trim() !== '' && Number.isFinite(Number(text)))
    return v === Number(text);
  return String(v) === text;
}

export function matchesFilter(v: ParamValue | undefined, f: Filter): boolean {
  if (f.op === '!=') return v === undefined || !f.values.some((t) => equals(v, t));
  if (v === undefined) return false;
  if (f.op === '=') return f.values.some((t) => equals(v, t));
  if (typeof v !== 'number') return false;
  const x = Number(f.values[0]);
  switch (f.op) {
    case '<':
      return v < x;
    case '<=':
      return v <= x;
    case '>':
      return v > x;
    case '>=':
      return v >= x;
  }
}

/** A value as a table cell. */
export function valueText(v: ParamValue | undefined): string {
  return v === undefined ? '—' : String(v);
}

/** Short column headers: the shortest tail of each key that no other shown key ends with. */
export function shortLabels(keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const parts = k.split('.');
    let label = k;
    for (let i = parts.length - 1; i >= 1; i--) {
      const tail = parts.slice(i).join('.');
      const clash = keys.some((o) => o !== k && (o === tail || o.endsWith(`.${tail}`)));
      if (!clash && !isBuiltinField(tail)) {
        label = tail;
        break;
      }
    }
    out[k] = label;
  }
  return out;
}
