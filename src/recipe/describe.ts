// Human wording for schema errors: "expected integer ≥ 1, found 'abc' (string)".
import type { JsonSchema } from '../plugin-api/schema.js';

/** A short rendering of a value as the user wrote it, with its type. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null (an empty value)';
  if (typeof v === 'string') return `${quote(v)} (string)`;
  if (typeof v === 'number') return `${v} (${Number.isInteger(v) ? 'integer' : 'number'})`;
  if (typeof v === 'boolean') return `${v} (boolean)`;
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length}`;
  if (typeof v === 'bigint' || typeof v === 'symbol' || typeof v === 'function') return String(v);
  // What is left is an object.
  const keys = Object.keys(v);
  return keys.length === 0
    ? 'an empty mapping'
    : `a mapping with keys ${keys.map(quote).join(', ')}`;
}

export function quote(v: unknown): string {
  if (typeof v === 'string') {
    const s = v.length > 60 ? `${v.slice(0, 57)}…` : v;
    return `'${s}'`;
  }
  return JSON.stringify(v) ?? String(v);
}

function typeWord(t: unknown, plural: boolean): string {
  switch (t) {
    case 'object':
      return plural ? 'mappings' : 'a mapping';
    case 'array':
      return plural ? 'lists' : 'a list';
    case 'integer':
    case 'number':
    case 'string':
      return plural ? `${t}s` : t;
    case 'boolean':
      return plural ? 'booleans' : 'true or false';
    case 'null':
      return 'null';
    default:
      return String(t);
  }
}

function num(schema: JsonSchema, key: string): number | undefined {
  const v = schema[key];
  return typeof v === 'number' ? v : undefined;
}

/** A bound: a number, or the name of the sibling field a `{ $data: '1/of' }` reference points at. */
function bound(schema: JsonSchema, key: string): number | string | undefined {
  const v = schema[key];
  if (typeof v === 'number') return v;
  const ref = v !== null && typeof v === 'object' ? (v as { $data?: unknown }).$data : undefined;
  return typeof ref === 'string' ? ref.split('/').pop() : undefined;
}

/** The numeric range of a schema as text: "≥ 1", "in (0, 1]", "≤ 100", "in [0, of]". */
function rangeText(schema: JsonSchema): string {
  const min = bound(schema, 'minimum');
  const xmin = bound(schema, 'exclusiveMinimum');
  const max = bound(schema, 'maximum');
  const xmax = bound(schema, 'exclusiveMaximum');
  const lo = min ?? xmin;
  const hi = max ?? xmax;
  if (lo !== undefined && hi !== undefined) {
    return `in ${xmin !== undefined ? '(' : '['}${lo}, ${hi}${xmax !== undefined ? ')' : ']'}`;
  }
  if (lo !== undefined) return `${xmin !== undefined ? '>' : '≥'} ${lo}`;
  if (hi !== undefined) return `${xmax !== undefined ? '<' : '≤'} ${hi}`;
  return '';
}

/** What a schema accepts, in a few words (`plural` when it describes the items of a list). */
export function describeSchema(schema: unknown, depth = 0, plural = false): string {
  if (schema === true) return 'anything';
  if (schema === false || schema === null || typeof schema !== 'object') return 'nothing';
  const s = schema as JsonSchema;
  if ('const' in s) return quote(s.const);
  if (Array.isArray(s.enum))
    return `${plural ? 'any of' : 'one of'} ${s.enum.map(quote).join(', ')}`;
  const alternatives = s.oneOf ?? s.anyOf;
  if (Array.isArray(alternatives) && depth < 2) {
    return alternatives.map((a) => describeSchema(a, depth + 1, plural)).join(' or ');
  }
  const types = Array.isArray(s.type) ? s.type : s.type !== undefined ? [s.type] : [];
  const parts: string[] = [];
  const minLength = num(s, 'minLength');
  const nonEmpty =
    minLength === 1 && types.length === 1 && types[0] === 'string' ? 'non-empty ' : '';
  const typeText = nonEmpty + types.map((t) => typeWord(t, plural)).join(' or ');
  if (types.includes('array')) {
    const items = s.items;
    const itemText =
      items !== undefined && typeof items === 'object' && depth < 2
        ? ` of ${describeSchema(items, depth + 1, true)}`
        : '';
    const minItems = num(s, 'minItems');
    const maxItems = num(s, 'maxItems');
    const count =
      minItems !== undefined && maxItems !== undefined
        ? minItems === maxItems
          ? ` with exactly ${minItems} item(s)`
          : ` with ${minItems}–${maxItems} items`
        : minItems !== undefined
          ? ` with at least ${minItems} item(s)`
          : maxItems !== undefined
            ? ` with at most ${maxItems} item(s)`
            : '';
    parts.push(`${typeText}${itemText}${count}`);
  } else {
    parts.push(typeText !== '' ? typeText : plural ? 'values' : 'a value');
  }
  const range = rangeText(s);
  if (range !== '') parts.push(range);
  const mult = num(s, 'multipleOf');
  if (mult !== undefined) parts.push(`a multiple of ${mult}`);
  if (typeof s.pattern === 'string') parts.push(`matching /${s.pattern}/`);
  if (minLength !== undefined && minLength > 1) parts.push(`of at least ${minLength} characters`);
  const maxLength = num(s, 'maxLength');
  if (maxLength !== undefined) parts.push(`at most ${maxLength} characters`);
  const minProps = num(s, 'minProperties');
  if (minProps !== undefined)
    parts.push(`with at least ${minProps} entr${minProps === 1 ? 'y' : 'ies'}`);
  if (typeof s.format === 'string') parts.push(`in ${s.format} format`);
  return parts.join(' ');
}
