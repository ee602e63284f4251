// Parameter documentation from JSON Schemas, for `scalpel stages`: one row per property (nested
// objects flattened to dotted names) with its type, default and description.
import type { JsonSchema } from '../plugin-api/schema.js';

export interface ParamDoc {
  readonly name: string;
  readonly type: string;
  /** JSON of the default, if the schema has one. */
  readonly default: string | undefined;
  readonly required: boolean;
  readonly description: string;
}

function isSchema(v: unknown): v is JsonSchema {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A short type expression: `integer ≥ 1`, `'fisher' | 'identity'`, `list of number`, `a | b`. */
export function typeOf(s: JsonSchema): string {
  if (Array.isArray(s['enum'])) return s['enum'].map((v) => JSON.stringify(v)).join(' | ');
  if ('const' in s) return JSON.stringify(s['const']);
  const ref = s['$ref'];
  if (typeof ref === 'string') return ref.split('/').pop() ?? ref;
  for (const key of ['oneOf', 'anyOf'] as const) {
    const alts = s[key];
    if (Array.isArray(alts)) return alts.filter(isSchema).map(typeOf).join(' | ');
  }
  const t = s['type'];
  const types = Array.isArray(t) ? t.map(String) : typeof t === 'string' ? [t] : [];
  const words = types.map((ty) => {
    if (ty === 'array') {
      const items = s['items'];
      return isSchema(items) ? `list of ${typeOf(items)}` : 'list';
    }
    if (ty === 'object') return 'mapping';
    const min = s['minimum'] ?? s['exclusiveMinimum'];
    const max = s['maximum'] ?? s['exclusiveMaximum'];
    const range = [
      typeof min === 'number' ? `${'exclusiveMinimum' in s ? '>' : '≥'} ${min}` : '',
      typeof max === 'number' ? `${'exclusiveMaximum' in s ? '<' : '≤'} ${max}` : '',
    ].filter((x) => x !== '');
    return range.length > 0 ? `${ty} ${range.join(', ')}` : ty;
  });
  return words.length > 0 ? words.join(' | ') : 'any';
}

/** Rows for every property of an object schema, nested objects included (depth-first). */
export function describeParams(schema: JsonSchema, prefix = ''): ParamDoc[] {
  const props = schema['properties'];
  if (!isSchema(props)) return [];
  const required = new Set(Array.isArray(schema['required']) ? schema['required'].map(String) : []);
  const rows: ParamDoc[] = [];
  for (const [key, sub] of Object.entries(props)) {
    if (!isSchema(sub)) continue;
    const name = prefix === '' ? key : `${prefix}.${key}`;
    rows.push({
      name,
      type: typeOf(sub),
      default: 'default' in sub ? JSON.stringify(sub['default']) : undefined,
      required: required.has(key),
      description: typeof sub['description'] === 'string' ? sub['description'] : '',
    });
    rows.push(...describeParams(sub, name));
  }
  return rows;
}
