// The `sweep:` section → a validated SweepSpec. Shape errors come from schemas/sweep.schema.json
// (worded by schema-errors.ts); the mistakes a schema words poorly (empty lists, min > max, log
// ranges through zero, a grid over a continuous range) get their own messages first. Every error
// is E_SWEEP and points at the offending entry (file:line:col).
import { ErrorCode, ScalpelError, isScalpelError, type SourceLocation } from '../errors.js';
import { readSchema } from '../util/schemas.js';
import { createAjv, type ValidateFunction } from '../util/ajv-instance.js';
import { describeValue, quote } from '../recipe/describe.js';
import type { ParsedYaml } from '../recipe/parse-yaml.js';
import type { PathSegment } from '../recipe/recipe-path.js';
import { schemaError } from '../recipe/schema-errors.js';
import { suggestionHint } from '../suggest.js';
import type { ParameterDomain, SweepMethod, SweepParameter, SweepSpec } from './sweep-types.js';
import { isObject } from '../util/is-object.js';

let validator: ValidateFunction | undefined;

function sweepValidator(): ValidateFunction {
  validator ??= createAjv().compile(readSchema('sweep.schema.json'));
  return validator;
}

/** A located E_SWEEP error. */
export function sweepError(message: string, location: SourceLocation, hint?: string): ScalpelError {
  return new ScalpelError(ErrorCode.Sweep, message, {
    location,
    ...(hint !== undefined ? { hint } : {}),
  });
}

export interface SweepSpecSource {
  /** The file the section is written in. */
  readonly yaml: ParsedYaml;
  /** Where the section sits in that file (['sweep']). */
  readonly basePath: readonly PathSegment[];
}

/** Validate a `sweep:` section (a deep copy is made; the input is not mutated). */
export function parseSweepSpec(section: unknown, src: SweepSpecSource): SweepSpec {
  const locate = (path: readonly PathSegment[], key = false): SourceLocation =>
    src.yaml.locate([...src.basePath, ...path], { key });
  const where = (path: readonly PathSegment[]): string => ['sweep', ...path].map(String).join('.');

  if (!isObject(section)) {
    throw sweepError(
      `the sweep section must be a mapping with 'parameters' (and optionally method, samples, repeats, exclude); found ${describeValue(section)}`,
      locate([]),
      'see docs/sweeps.md, e.g. sweep: { parameters: { stages.prune.with.density: [0.1, 0.2] } }',
    );
  }
  const data = structuredClone(section);
  precheckParameters(data['parameters'], locate, where);

  const validate = sweepValidator();
  if (!validate(data)) {
    const e = schemaError(validate.errors ?? [], {
      yaml: src.yaml,
      basePath: src.basePath,
      overrides: [],
    });
    throw new ScalpelError(ErrorCode.Sweep, e.message, {
      ...(e.location !== undefined ? { location: e.location } : {}),
      hint: e.hint ?? 'see schemas/sweep.schema.json and docs/sweeps.md',
    });
  }

  const method = data['method'] as SweepMethod;
  const samples = data['samples'] as number | undefined;
  if (method === 'random' && samples === undefined) {
    throw sweepError(
      `${where(['method'])}: a random sweep needs 'samples' (how many combinations to draw)`,
      locate(['method']),
      'add e.g. "samples: 20" to the sweep section',
    );
  }
  if (method === 'grid' && samples !== undefined) {
    throw sweepError(
      `${where(['samples'])}: 'samples' only applies to method: random (a grid runs every combination)`,
      locate(['samples'], true),
      'remove samples, or set method: random',
    );
  }

  const rawParams = data['parameters'] as Record<string, unknown>;
  const parameters: SweepParameter[] = [];
  const pathOwner = new Map<string, string>();
  for (const [name, raw] of Object.entries(rawParams)) {
    const p = toParameter(name, raw, method, locate, where);
    for (const path of p.paths) {
      if (path === 'sweep' || path.startsWith('sweep.')) {
        throw sweepError(
          `${where(['parameters', name])}: a sweep cannot vary its own section ('${path}')`,
          p.location,
        );
      }
      const owner = pathOwner.get(path);
      if (owner !== undefined) {
        throw sweepError(
          `${where(['parameters', name])}: '${path}' is already set by parameter '${owner}'`,
          p.location,
          'each recipe path may be varied by one parameter only; combine them or drop one',
        );
      }
      pathOwner.set(path, name);
    }
    parameters.push(p);
  }

  const names = parameters.map((p) => p.name);
  const exclude = data['exclude'] as Record<string, unknown>[];
  exclude.forEach((entry, i) => {
    for (const key of Object.keys(entry)) {
      if (!names.includes(key)) {
        throw sweepError(
          `${where(['exclude', i])}: '${key}' is not a sweep parameter`,
          locate(['exclude', i, key], true),
          suggestionHint(key, names, 'parameter'),
        );
      }
    }
  });

  const seedPath = data['seedPath'] as string;
  if (pathOwner.has(seedPath) && (data['repeats'] as number) > 1) {
    throw sweepError(
      `${where(['repeats'])}: repeats vary '${seedPath}', which parameter '${pathOwner.get(seedPath) ?? ''}' also sets`,
      locate(['repeats']),
      'sweep the seed as a parameter or use repeats, not both (or point seedPath at another seed)',
    );
  }

  return {
    method,
    samples,
    parameters,
    repeats: data['repeats'] as number,
    seedPath,
    exclude,
    resolved: data,
    locate: (path) => locate(path),
  };
}

/** Clear messages for the mistakes the schema would word as "does not match anyOf". */
function precheckParameters(
  params: unknown,
  locate: (p: readonly PathSegment[], key?: boolean) => SourceLocation,
  where: (p: readonly PathSegment[]) => string,
): void {
  if (!isObject(params)) return; // the schema says what is missing
  if (Object.keys(params).length === 0) {
    throw sweepError(
      `${where(['parameters'])}: no parameters to vary`,
      locate(['parameters']),
      'add e.g. "stages.prune.with.density: [0.1, 0.2]"',
    );
  }
  for (const [name, raw] of Object.entries(params)) {
    const at = ['parameters', name];
    const values = Array.isArray(raw) ? raw : isObject(raw) ? raw['values'] : undefined;
    if (Array.isArray(values) && values.length === 0) {
      throw sweepError(
        `${where(at)}: empty list of values`,
        locate(Array.isArray(raw) ? at : [...at, 'values']),
        'give at least one value, e.g. [0.1, 0.2], or remove the parameter',
      );
    }
    if (!Array.isArray(raw) && !isObject(raw)) {
      throw sweepError(
        `${where(at)}: expected a list of values or a range { min, max }, found ${describeValue(raw)}`,
        locate(at),
        `to fix a single value write [${JSON.stringify(raw) ?? ''}] (or set it in the recipe)`,
      );
    }
  }
}

function toParameter(
  name: string,
  raw: unknown,
  method: SweepMethod,
  locate: (p: readonly PathSegment[], key?: boolean) => SourceLocation,
  where: (p: readonly PathSegment[]) => string,
): SweepParameter {
  const at: PathSegment[] = ['parameters', name];
  const location = locate(at, true);
  if (Array.isArray(raw)) {
    return { name, paths: [name], domain: { kind: 'values', values: raw }, location };
  }
  const o = raw as Record<string, unknown>;
  const paths = Array.isArray(o['paths']) ? (o['paths'] as string[]) : [name];
  const hasRange = o['min'] !== undefined || o['max'] !== undefined;
  const values = o['values'];
  if (Array.isArray(values)) {
    for (const k of ['min', 'max', 'log', 'integer', 'steps']) {
      if (o[k] !== undefined) {
        throw sweepError(
          `${where(at)}: '${k}' does not go with 'values'`,
          locate([...at, k], true),
          'give either values: [...] or a range (min, max, log, integer, steps)',
        );
      }
    }
    return { name, paths, domain: { kind: 'values', values }, location };
  }
  if (!hasRange) {
    throw sweepError(
      `${where(at)}: give 'values: [...]' or a range with 'min' and 'max'`,
      location,
      'e.g. { min: 0.05, max: 0.5, log: true }',
    );
  }
  for (const k of ['min', 'max'] as const) {
    if (typeof o[k] !== 'number') {
      throw sweepError(`${where(at)}: a range needs '${k}' (a number)`, locate(at), `add ${k}: …`);
    }
  }
  const domain = checkRange(o, (p) => locate([...at, ...p]), where(at), method, location);
  return { name, paths, domain, location };
}

function checkRange(
  o: Record<string, unknown>,
  locate: (p: readonly PathSegment[]) => SourceLocation,
  label: string,
  method: SweepMethod,
  location: SourceLocation,
): ParameterDomain {
  const min = o['min'] as number;
  const max = o['max'] as number;
  const log = o['log'] === true;
  const integer = o['integer'] === true;
  const steps = o['steps'] as number | undefined;
  if (min > max) {
    throw sweepError(
      `${label}: min ${min} is greater than max ${max}`,
      locate(['min']),
      `swap them: { min: ${max}, max: ${min} }`,
    );
  }
  if (log && min <= 0) {
    throw sweepError(
      `${label}: a log range needs min > 0, found min ${min}`,
      locate(['min']),
      'log spacing is undefined at and below zero; raise min (e.g. 1e-4) or drop log: true',
    );
  }
  if (integer && Math.ceil(min) > Math.floor(max)) {
    throw sweepError(
      `${label}: no whole number lies between min ${min} and max ${max}`,
      locate(['min']),
      'widen the range or drop integer: true',
    );
  }
  if (method === 'grid' && steps === undefined) {
    throw sweepError(
      `${label}: a grid cannot enumerate a continuous range without 'steps'`,
      location,
      `add steps: N (N evenly spread points${log ? ' in log space' : ''} from min to max), list values: [...], or use method: random`,
    );
  }
  if (steps !== undefined && steps > 1 && min === max) {
    throw sweepError(
      `${label}: ${steps} steps over an empty range (min = max = ${min})`,
      locate(['steps']),
      `use values: [${min}]`,
    );
  }
  return { kind: 'range', min, max, log, integer, steps };
}

/** True when an error came from sweep validation (for callers that add context). */
export function isSweepError(e: unknown): e is ScalpelError {
  return isScalpelError(e) && e.code === ErrorCode.Sweep;
}

/** `density=0.1, method='wanda'` for messages. */
export function formatCombination(params: Readonly<Record<string, unknown>>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? quote(v) : (JSON.stringify(v) ?? String(v))}`)
    .join(', ');
}
