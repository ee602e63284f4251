// The one check for "a JSON object" (a YAML mapping): not null, not an array.

/** True for a plain object value (as parsed from JSON or YAML), false for null and arrays. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
