// `scalpel sweep <file>`: a recipe with a `sweep:` section, or a sweep file `{ recipe, sweep }`.
// Everything is validated before anything runs: the spec itself, that every parameter path names
// something in the recipe, and every trial's recipe (overrides applied through the same code as
// `--set`, then the full loadRecipe validation). A trial the schemas reject is reported with its
// parameters and the schema's own message.
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { ErrorCode, ScalpelError, isScalpelError, type SourceLocation } from '../errors.js';
import { describeValue } from '../recipe/describe.js';
import { buildDag } from '../recipe/dag.js';
import { loadRecipe } from '../recipe/load-recipe.js';
import { isSweepFileData } from '../recipe/schema-validation.js';
import { parseRecipeYaml, type ParsedYaml } from '../recipe/parse-yaml.js';
import { suggestionHint } from '../suggest.js';
import { expandSweep } from './sweep-expand.js';
import { checkRecipePath } from './sweep-paths.js';
import { formatCombination, parseSweepSpec, sweepError } from './sweep-spec.js';
import type { SweepDefinition, SweepSpec, Trial, TrialSpec } from './sweep-types.js';
import type { LoadRecipeOptions, ResolvedRecipe } from '../recipe/types.js';
import { isObject } from '../util/is-object.js';

export type LoadSweepOptions = LoadRecipeOptions;

const sweepFileKeys = ['recipe', 'sweep', 'name', 'description', 'set'];

function readText(abs: string, given: string): string {
  try {
    if (!statSync(abs).isFile()) {
      throw new ScalpelError(ErrorCode.Io, `${given} is not a file`, {
        location: { file: abs },
        hint: 'pass a recipe with a sweep: section, or a sweep file',
      });
    }
    return readFileSync(abs, 'utf8');
  } catch (e) {
    if (isScalpelError(e)) throw e;
    throw new ScalpelError(
      ErrorCode.Io,
      `cannot read ${given}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      {
        location: { file: abs },
        hint: 'check the path (relative paths are relative to the current directory)',
        cause: e,
      },
    );
  }
}

interface SweepSource {
  readonly yaml: ParsedYaml;
  readonly section: unknown;
  readonly recipeFile: string;
  readonly name: string | undefined;
  /** `set:` entries of a sweep file (applied before the command line's). */
  readonly set: readonly string[];
}

/** Is `file` a sweep file (rather than a recipe)? False when it cannot be read or parsed. */
export function isSweepFile(file: string): boolean {
  try {
    const abs = resolve(file);
    return isSweepFileData(parseRecipeYaml(abs, readText(abs, file)).toJSON());
  } catch {
    return false;
  }
}

/** Tell a sweep file from a recipe and find the sweep section. */
function readSource(file: string): SweepSource {
  const abs = resolve(file);
  const yaml = parseRecipeYaml(abs, readText(abs, file));
  const data = yaml.toJSON();
  if (isSweepFileData(data)) {
    for (const key of Object.keys(data)) {
      if (!sweepFileKeys.includes(key)) {
        throw sweepError(
          `a sweep file has no key '${key}'`,
          yaml.locate([key], { key: true }),
          suggestionHint(key, sweepFileKeys, 'key'),
        );
      }
    }
    const recipe = data['recipe'];
    if (typeof recipe !== 'string' || recipe === '') {
      throw sweepError(
        `'recipe' must be the path of a recipe file, found ${describeValue(recipe)}`,
        yaml.locate(['recipe']),
        'paths are relative to the sweep file',
      );
    }
    const set = data['set'] ?? [];
    if (!Array.isArray(set) || !set.every((s): s is string => typeof s === 'string')) {
      throw sweepError(
        `'set' must be a list of "path=value" strings`,
        yaml.locate(['set']),
        'e.g. set: ["stages.prune.with.steps=50"]',
      );
    }
    if (!('sweep' in data)) {
      throw sweepError(
        'the sweep file has no sweep: section',
        yaml.locate([]),
        'add sweep: { parameters: { ... } }',
      );
    }
    const name = data['name'];
    if (
      name !== undefined &&
      (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    ) {
      throw sweepError(
        `'name' must be letters, digits, '.', '_' or '-', found ${describeValue(name)}`,
        yaml.locate(['name']),
      );
    }
    return {
      yaml,
      section: data['sweep'],
      recipeFile: resolve(dirname(abs), recipe),
      name: typeof name === 'string' ? name : basename(abs, extname(abs)),
      set,
    };
  }
  if (!isObject(data) || !('sweep' in data)) {
    throw sweepError(
      `${file} has no sweep: section`,
      yaml.locate([]),
      'add a sweep: section to the recipe (see docs/sweeps.md), or pass a sweep file { recipe: <path>, sweep: {...} }',
    );
  }
  return { yaml, section: data['sweep'], recipeFile: abs, name: undefined, set: [] };
}

function checkPaths(spec: SweepSpec, base: ResolvedRecipe): void {
  const paths = spec.parameters.flatMap((p) => p.paths.map((path, i) => ({ p, path, i })));
  if (spec.repeats > 1) paths.push({ p: undefined as never, path: spec.seedPath, i: -1 });
  for (const { p, path, i } of paths) {
    const r = checkRecipePath(base, path);
    if (r.ok) continue;
    const location: SourceLocation =
      p === undefined
        ? spec.locate(['seedPath'])
        : p.paths.length > 1 || p.name !== path
          ? spec.locate(['parameters', p.name, 'paths', i])
          : p.location;
    const at = r.existing === '' ? 'the recipe' : `'${r.existing}'`;
    throw sweepError(
      `sweep path '${path}' does not name anything in the recipe: ${at} has no '${r.missing}'`,
      location,
      r.candidates.length > 0
        ? suggestionHint(r.missing, r.candidates, 'key')
        : `'${r.existing}' holds a value, not a mapping`,
    );
  }
}

function baseSeedOf(spec: SweepSpec, base: ResolvedRecipe): number {
  if (spec.seedPath === 'seed') return base.seed;
  const r = checkRecipePath(base, spec.seedPath);
  const v = r.ok ? r.value : undefined;
  if (v === undefined) return base.seed; // declared by the stage schema, not set: start from the recipe seed
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw sweepError(
      `sweep.seedPath '${spec.seedPath}' holds ${describeValue(v)}, not an integer seed`,
      spec.locate(['seedPath']),
    );
  }
  return v;
}

/** Which parameter wrote the recipe path an error points at (for locating trial errors). */
function parameterFor(
  spec: SweepSpec,
  errPath: string | undefined,
): SweepSpec['parameters'][number] | undefined {
  if (errPath === undefined) return undefined;
  return spec.parameters.find((p) =>
    p.paths.some(
      (q) => errPath === q || errPath.startsWith(q + '.') || q.startsWith(errPath + '.'),
    ),
  );
}

async function loadTrial(
  t: TrialSpec,
  spec: SweepSpec,
  recipeFile: string,
  baseSet: readonly string[],
  opts: LoadSweepOptions,
): Promise<Trial> {
  try {
    const recipe = await loadRecipe(recipeFile, { ...opts, set: [...baseSet, ...t.overrides] });
    buildDag(recipe); // a trial's values may change what its stages need (method: wanda → calibration)
    return { ...t, recipe };
  } catch (e) {
    if (!isScalpelError(e)) throw e;
    const p = parameterFor(spec, e.location?.path);
    const params = formatCombination(t.parameters);
    const origin = e.where !== '' ? ` [${e.where}]` : '';
    throw new ScalpelError(
      ErrorCode.Sweep,
      `trial ${t.index} (${params}${spec.repeats > 1 ? `, repeat ${t.repeat}, seed ${t.seed}` : ''}) is invalid: ${e.code}: ${e.message}${origin}`,
      {
        location: p?.location ?? spec.locate(['parameters']),
        hint: `${e.hint !== undefined ? e.hint + '; ' : ''}change the values of this parameter or leave the combination out with sweep.exclude`,
        cause: e,
        ...(e.stageId !== undefined ? { stageId: e.stageId } : {}),
      },
    );
  }
}

/** Read, validate and expand a sweep. Nothing is written and nothing runs. */
export async function loadSweep(
  file: string,
  opts: LoadSweepOptions = {},
): Promise<SweepDefinition> {
  const src = readSource(file);
  const spec = parseSweepSpec(src.section, { yaml: src.yaml, basePath: ['sweep'] });
  const baseSet = [...src.set, ...(opts.set ?? [])];
  const base = await loadRecipe(src.recipeFile, { ...opts, set: baseSet });
  checkPaths(spec, base);
  const specs = expandSweep(spec, base.seed, baseSeedOf(spec, base));
  const trials: Trial[] = [];
  for (const t of specs) trials.push(await loadTrial(t, spec, src.recipeFile, baseSet, opts));
  return {
    name: src.name ?? base.name,
    file: resolve(file),
    recipeFile: src.recipeFile,
    baseOverrides: baseSet,
    base,
    spec,
    trials,
  };
}
