// Recipe variables: a top-level `vars:` mapping, referenced anywhere else in the recipe (not in
// `vars:` itself nor in `sweep:`) as `${vars.name}`. A string that is exactly one reference takes
// the variable's value with its type (a number stays a number, a list a list); a reference inside
// a longer string is replaced by the value's text. `$${` writes a literal `${`. References are
// resolved after `--set` (so `--set vars.density=0.3` changes every use) and before validation, so
// the substituted values are checked, hashed and recorded like written ones.
import { ErrorCode, ScalpelError } from '../errors.js';
import { isObject } from '../util/is-object.js';
import type { ParsedYaml } from './parse-yaml.js';
import type { PathSegment } from './recipe-path.js';
import { suggestionHint } from '../suggest.js';

/** `${vars.<name>}`; `name` is everything up to the closing brace (checked below). */
const reference = /\$\{\s*vars\.([^}]*?)\s*\}/g;
const escaped = /\$\$\{/g;
const namePattern = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Top-level keys whose values are not searched for references. */
const literalSections = new Set(['vars', 'sweep']);

function varError(
  yaml: ParsedYaml,
  path: readonly PathSegment[],
  message: string,
  hint: string,
): ScalpelError {
  return new ScalpelError(ErrorCode.RecipeSchema, message, { location: yaml.locate(path), hint });
}

/** The `vars:` mapping, checked: a mapping of names to values. */
function readVars(data: Record<string, unknown>, yaml: ParsedYaml): Map<string, unknown> {
  const raw = data.vars;
  if (raw === undefined || raw === null) return new Map();
  if (!isObject(raw)) {
    throw varError(
      yaml,
      ['vars'],
      'vars: expected a mapping of names to values',
      'e.g. vars: { density: 0.3 }',
    );
  }
  for (const name of Object.keys(raw)) {
    if (!namePattern.test(name)) {
      throw new ScalpelError(ErrorCode.RecipeSchema, `vars.${name}: not a valid variable name`, {
        location: yaml.locate(['vars', name], { key: true }),
        hint: 'names start with a letter or "_" and contain only letters, digits, "-" and "_"',
      });
    }
  }
  return new Map(Object.entries(raw));
}

/** The text a value takes inside a longer string. */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function substituteString(
  text: string,
  path: readonly PathSegment[],
  vars: ReadonlyMap<string, unknown>,
  yaml: ParsedYaml,
): unknown {
  const lookup = (name: string): unknown => {
    if (vars.has(name)) return vars.get(name);
    const known = [...vars.keys()];
    throw varError(
      yaml,
      path,
      `\${vars.${name}}: no variable '${name}' in vars:`,
      known.length > 0
        ? suggestionHint(name, known, 'variable')
        : `define it at the top of the recipe: vars: { ${name}: … }`,
    );
  };
  // Placeholders for escaped `$${`, so they are neither references nor left doubled.
  const marker = '\u0000';
  const work = text.replace(escaped, marker);
  const whole = /^\$\{\s*vars\.([^}]*?)\s*\}$/.exec(work);
  if (whole !== null) return structuredClone(lookup(whole[1] ?? ''));
  return work
    .replace(reference, (_m, name: string) => asText(lookup(name)))
    .replaceAll(marker, '${');
}

function substitute(
  value: unknown,
  path: PathSegment[],
  vars: ReadonlyMap<string, unknown>,
  yaml: ParsedYaml,
): unknown {
  if (typeof value === 'string') {
    return value.includes('${') ? substituteString(value, path, vars, yaml) : value;
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, [...path, i], vars, yaml));
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substitute(v, [...path, k], vars, yaml)]),
    );
  }
  return value;
}

/**
 * The recipe data with every `${vars.name}` reference replaced. Throws a located
 * E_RECIPE_SCHEMA error for a reference to an undefined variable or a malformed `vars:`.
 */
export function resolveVars(data: unknown, yaml: ParsedYaml): unknown {
  if (!isObject(data)) return data;
  const vars = readVars(data, yaml);
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [
      key,
      literalSections.has(key) ? value : substitute(value, [key], vars, yaml),
    ]),
  );
}
