// ajv errors → one ScalpelError that says where (file:line:col, dotted path), what was expected
// and what was found. ajv with allErrors reports every failed branch of every oneOf/anyOf; we
// keep the branch the user evidently meant and drop the noise.
import { ErrorCode, ScalpelError, type SourceLocation } from '../errors.js';
import type { ErrorObject } from '../util/ajv-instance.js';
import { describeSchema, describeValue, quote } from './describe.js';
import type { ParsedYaml } from './parse-yaml.js';
import {
  formatPath,
  isWithin,
  pointerToPath,
  type PathSegment,
  type RecipePath,
} from './recipe-path.js';
import { closest, suggestionHint } from '../suggest.js';
import type { AppliedOverride } from './overrides.js';
import { isObject } from '../util/is-object.js';

export interface SchemaErrorContext {
  readonly yaml: ParsedYaml;
  /** Where the validated value sits in the recipe (e.g. ['stages', 'prune', 'with']). */
  readonly basePath: RecipePath;
  readonly overrides: readonly AppliedOverride[];
  /** The schema validated against: an error inside a titled `oneOf` branch (the prune stage's "pruner 'wanda'") names that branch. */
  readonly rootSchema?: unknown;
}

/** The `title` of the top-level `oneOf` branch an error lies in (`#/oneOf/<i>/…`), if any. */
function branchTitle(schemaPath: string, root: unknown): string | undefined {
  const m = /^#\/oneOf\/(\d+)\//.exec(schemaPath);
  if (m === null || root === null || typeof root !== 'object') return undefined;
  const branches = (root as { oneOf?: unknown }).oneOf;
  const branch = Array.isArray(branches)
    ? (branches[Number(m[1])] as { title?: unknown } | undefined)
    : undefined;
  return typeof branch?.title === 'string' ? branch.title : undefined;
}

/** One problem, ready to print. */
interface Problem {
  path: PathSegment[];
  /** Point at the key rather than the value (unknown keys, bad names). */
  atKey: boolean;
  text: string;
  hint?: string;
}

const combinators = new Set(['oneOf', 'anyOf']);
const noise = new Set(['if', 'then', 'else', 'allOf']);

/** Errors of the branch of each oneOf/anyOf the user most likely meant. */
export function selectErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  let leaves = errors.filter((e) => !combinators.has(e.keyword) && !noise.has(e.keyword));
  const combos = errors
    .filter((e) => combinators.has(e.keyword))
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  const dropped: string[] = [];
  const synthesized: ErrorObject[] = [];
  for (const combo of combos) {
    if (dropped.some((prefix) => combo.schemaPath.startsWith(prefix))) continue;
    const prefix = `${combo.schemaPath}/`;
    const branches = new Map<string, ErrorObject[]>();
    for (const e of leaves) {
      if (!e.schemaPath.startsWith(prefix)) continue;
      const idx = e.schemaPath.slice(prefix.length).split('/')[0] ?? '';
      branches.set(idx, [...(branches.get(idx) ?? []), e]);
    }
    if (branches.size === 0) {
      // e.g. oneOf matched several branches: keep the combinator error itself.
      synthesized.push(combo);
      continue;
    }
    const excluded = (errs: ErrorObject[]): boolean =>
      errs.some(
        (e) =>
          (e.keyword === 'type' && e.instancePath === combo.instancePath) ||
          ((e.keyword === 'const' || e.keyword === 'enum') &&
            (e.instancePath === combo.instancePath ||
              isDirectChild(e.instancePath, combo.instancePath))),
      );
    const candidates = [...branches.entries()].filter(([, errs]) => !excluded(errs));
    candidates.sort((a, b) => a[1].length - b[1].length);
    const keep = candidates[0]?.[0];
    for (const idx of branches.keys()) {
      if (idx !== keep) dropped.push(`${prefix}${idx}/`);
    }
    if (keep === undefined) synthesized.push(tagError(combo, [...branches.values()]) ?? combo);
  }
  leaves = leaves.filter((e) => !dropped.some((p) => e.schemaPath.startsWith(p)));
  // Errors under propertyNames are restated by the propertyNames error itself.
  leaves = leaves.filter((e) => (e as { propertyName?: string }).propertyName === undefined);
  // `stagse:` gives "unknown key 'stagse'" and "missing 'stages'": one mistake, reported once
  // (as the unknown key, whose hint suggests the missing one).
  leaves = leaves.filter((e) => {
    if (e.keyword !== 'required') return true;
    const missing = String((e.params as { missingProperty?: unknown }).missingProperty);
    return !leaves.some(
      (o) =>
        o.keyword === 'additionalProperties' &&
        o.instancePath === e.instancePath &&
        closest(String((o.params as { additionalProperty?: unknown }).additionalProperty), [
          missing,
        ]) === missing,
    );
  });
  return [...leaves, ...synthesized];
}

/**
 * When every branch failed on the same property's `const`/`enum` (a tag such as `uses: sa`), the
 * useful error is "that property must be one of the tags", not "matches no alternative".
 */
function tagError(combo: ErrorObject, branches: ErrorObject[][]): ErrorObject | undefined {
  let path: string | undefined;
  let data: unknown;
  const allowed: unknown[] = [];
  for (const errs of branches) {
    const tag = errs.find(
      (e) =>
        (e.keyword === 'const' || e.keyword === 'enum') &&
        isDirectChild(e.instancePath, combo.instancePath),
    );
    if (tag === undefined || (path !== undefined && tag.instancePath !== path)) return undefined;
    path = tag.instancePath;
    data = tag.data;
    const p = tag.params as { allowedValue?: unknown; allowedValues?: unknown[] };
    allowed.push(...(tag.keyword === 'const' ? [p.allowedValue] : (p.allowedValues ?? [])));
  }
  if (path === undefined) return undefined;
  return {
    keyword: 'enum',
    instancePath: path,
    schemaPath: combo.schemaPath,
    params: { allowedValues: allowed },
    data,
    parentSchema: { enum: allowed },
  };
}

function isDirectChild(inner: string, outer: string): boolean {
  return inner.startsWith(`${outer}/`) && !inner.slice(outer.length + 1).includes('/');
}

function toProblem(e: ErrorObject, base: RecipePath): Problem {
  const path = [...base, ...pointerToPath(e.instancePath)];
  const schema = (e.parentSchema ?? {}) as Record<string, unknown>;
  const found = describeValue(e.data);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const key = String(params.additionalProperty ?? params.unevaluatedProperty);
      const known = Object.keys(schema.properties ?? {});
      return {
        path: [...path, key],
        atKey: true,
        text: `unknown key '${key}'`,
        hint: known.length > 0 ? suggestionHint(key, known, 'key') : 'this mapping takes no keys',
      };
    }
    case 'required': {
      const key = String(params.missingProperty);
      const propSchema = ((schema.properties ?? {}) as Record<string, unknown>)[key];
      const desc =
        propSchema !== null && typeof propSchema === 'object'
          ? (propSchema as { description?: unknown }).description
          : undefined;
      return {
        path,
        atKey: false,
        text: `missing required key '${key}'${
          propSchema !== undefined ? ` (expected ${describeSchema(propSchema)})` : ''
        }`,
        hint: `add '${key}:'${typeof desc === 'string' ? ` — ${desc}` : ''}`,
      };
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      return {
        path: [...path, name],
        atKey: true,
        text: `invalid name '${name}': expected ${describeSchema(schema.propertyNames)}`,
        hint: 'names start with a letter and contain only letters, digits, "-" and "_"',
      };
    }
    case 'const':
    case 'enum': {
      const allowed =
        e.keyword === 'const' ? [params.allowedValue] : ((params.allowedValues ?? []) as unknown[]);
      const strings = allowed.filter((a): a is string => typeof a === 'string');
      const best = typeof e.data === 'string' ? closest(e.data, strings) : undefined;
      // Not a typo: the schema's description says why only these values fit (e.g. the solvers
      // that can honour an N:M pattern).
      const desc = schema.description;
      const why =
        typeof desc === 'string' ? `${String(path[path.length - 1])}: ${desc}` : undefined;
      return {
        path,
        atKey: false,
        text: `expected ${allowed.length === 1 ? quote(allowed[0]) : `one of ${allowed.map(quote).join(', ')}`}, found ${found}`,
        ...(best !== undefined
          ? { hint: `did you mean '${best}'?` }
          : why !== undefined
            ? { hint: why }
            : {}),
      };
    }
    case 'uniqueItems': {
      const [a, b] = [Number(params.i), Number(params.j)].sort((x, y) => x - y);
      return {
        path: [...path, b ?? 0],
        atKey: false,
        text: `duplicate entry ${quote((e.data as unknown[])[b ?? 0])} (items ${a} and ${b} are equal)`,
        hint: 'list each entry once',
      };
    }
    case 'minProperties':
      if (path.length === 1 && path[0] === 'stages') {
        return {
          path,
          atKey: false,
          text: 'the recipe has no stages',
          hint: 'add at least one stage under `stages:`, e.g. "model: { uses: load-model, with: { path: model.json } }"',
        };
      }
      return {
        path,
        atKey: false,
        text: `expected ${describeSchema(schema)}, found ${found}`,
      };
    case 'discriminator': {
      const tag = String(params.tag);
      const options = discriminatorValues(schema);
      const value = (e.data as Record<string, unknown> | null)?.[tag];
      const best = typeof value === 'string' ? closest(value, options) : undefined;
      return {
        path: [...path, tag],
        atKey: false,
        text:
          params.error === 'tag'
            ? `'${tag}' must be a string, found ${describeValue(value)}`
            : `expected '${tag}' to be one of ${options.map(quote).join(', ')}, found ${describeValue(value)}`,
        hint:
          best !== undefined ? `did you mean '${best}'?` : `valid values: ${options.join(', ')}`,
      };
    }
    case 'oneOf':
    case 'anyOf': {
      if (e.keyword === 'oneOf' && Array.isArray(params.passingSchemas)) {
        return {
          path,
          atKey: false,
          text: `${found} matches more than one of the allowed forms (${describeSchema(schema)})`,
        };
      }
      return { path, atKey: false, text: `expected ${describeSchema(schema)}, found ${found}` };
    }
    case 'type':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'multipleOf':
    case 'minLength':
    case 'maxLength':
    case 'pattern':
    case 'format':
    case 'minItems':
    case 'maxItems': {
      const desc = schema.description;
      const key = path[path.length - 1];
      return {
        path,
        atKey: false,
        text: `expected ${describeSchema(schema)}, found ${found}`,
        ...(typeof desc === 'string' ? { hint: `${String(key)}: ${desc}` } : {}),
      };
    }
    default:
      return { path, atKey: false, text: `${e.message ?? 'is invalid'} (found ${found})` };
  }
}

function discriminatorValues(schema: Record<string, unknown>): string[] {
  const tag = (schema.discriminator as { propertyName?: string } | undefined)?.propertyName ?? '';
  const out: string[] = [];
  for (const branch of (schema.oneOf ?? []) as Record<string, unknown>[]) {
    const prop = ((branch.properties ?? {}) as Record<string, Record<string, unknown>>)[tag];
    if (prop === undefined) continue;
    if (typeof prop.const === 'string') out.push(prop.const);
    if (Array.isArray(prop.enum))
      out.push(...prop.enum.filter((x): x is string => typeof x === 'string'));
  }
  return out;
}

/**
 * An unknown top-level key of one branch of a discriminated schema (the prune stage: one branch
 * per pruner) that another branch declares: say whose parameter it is, e.g. `percdamp` given to
 * magnitude is sparsegpt's.
 */
function withOwnerHint(p: Problem, e: ErrorObject, root: unknown): Problem {
  if (e.keyword !== 'additionalProperties' || e.instancePath !== '') return p;
  if (root === null || typeof root !== 'object') return p;
  const schema = root as Record<string, unknown>;
  if (schema.discriminator === undefined || !Array.isArray(schema.oneOf)) return p;
  const key = String((e.params as Record<string, unknown>).additionalProperty);
  const owners = (schema.oneOf as Record<string, unknown>[])
    .filter((b) => isObject(b.properties) && key in b.properties && typeof b.title === 'string')
    .map((b) => String(b.title));
  if (owners.length === 0) return p;
  const whose = `'${key}' is a parameter of ${owners.join(', ')}`;
  return { ...p, hint: p.hint !== undefined ? `${whose}; ${p.hint}` : whose };
}

/** A `--set` that put the value at (or inside, or around) this path, if any. */
export function overrideFor(
  path: RecipePath,
  overrides: readonly AppliedOverride[],
): AppliedOverride | undefined {
  // The last override wins, as when they were applied.
  return [...overrides].reverse().find((o) => isWithin(path, o.path) || isWithin(o.path, path));
}

/** Turn a list of ajv errors into one ScalpelError (the most useful problem first). */
export function schemaError(errors: readonly ErrorObject[], ctx: SchemaErrorContext): ScalpelError {
  const problems = selectErrors(errors).map((e) => {
    const p = withOwnerHint(toProblem(e, ctx.basePath), e, ctx.rootSchema);
    const title = branchTitle(e.schemaPath, ctx.rootSchema);
    return title === undefined ? p : { ...p, text: `${p.text} (${title})` };
  });
  const located = problems.map((p) => ({ p, loc: ctx.yaml.locate(p.path, { key: p.atKey }) }));
  located.sort((a, b) => order(a.loc) - order(b.loc) || b.p.path.length - a.p.path.length);
  const render = ({ p }: { p: Problem }): string => {
    const o = overrideFor(p.path, ctx.overrides);
    const prefix = p.path.length > 0 ? `${formatPath(p.path)}: ` : '';
    return `${prefix}${p.text}${o !== undefined ? ` (value from --set ${o.raw})` : ''}`;
  };
  const first = located[0];
  if (first === undefined) {
    return new ScalpelError(ErrorCode.RecipeSchema, `${formatPath(ctx.basePath)} is invalid`, {
      location: ctx.yaml.locate(ctx.basePath),
    });
  }
  const others = located.slice(1, 5).map((x) => `\n  also ${where(x.loc)}: ${render(x)}`);
  const more = located.length > 5 ? `\n  … and ${located.length - 5} more` : '';
  return new ScalpelError(ErrorCode.RecipeSchema, render(first) + others.join('') + more, {
    location: first.loc,
    ...(first.p.hint !== undefined ? { hint: first.p.hint } : {}),
  });
}

function order(loc: SourceLocation): number {
  return (loc.line ?? 0) * 100000 + (loc.col ?? 0);
}

function where(loc: SourceLocation): string {
  return `${loc.line ?? '?'}:${loc.col ?? '?'}`;
}
