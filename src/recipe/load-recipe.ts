// loadRecipe: file → YAML document (positions kept) → `--set` overrides → vars → rounds
// (expand-rounds.ts) → recipe schema →
// plugins → each stage's `with` schema → ResolvedRecipe. validateRecipe also builds the DAG.
import { readFileSync, statSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { ErrorCode, ScalpelError, type SourceLocation } from '../errors.js';
import { buildDag, type Dag } from './dag.js';
import { stageFingerprint } from './fingerprint.js';
import { loadRecipePlugins } from '../registry/plugin-loader.js';
import { applyOverrides } from './overrides.js';
import { parseRecipeYaml } from './parse-yaml.js';
import { validateRecipeShape, validateStageParams } from './schema-validation.js';
import { closest } from '../suggest.js';
import { resolveVars } from './vars.js';
import { expandRounds } from './expand-rounds.js';
import type { LoadRecipeOptions, ResolvedRecipe, ResolvedStage } from './types.js';
import type { Registry } from '../registry/registry.js';

/** Read the recipe file, turning every file-system problem into an E_IO error with a hint. */
function readRecipeText(file: string, given: string): string {
  let stats;
  try {
    stats = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ScalpelError(ErrorCode.Io, `recipe file not found: ${given}`, {
        location: { file },
        hint: missingFileHint(file),
        cause: e,
      });
    }
    throw ioError(file, e);
  }
  if (stats.isDirectory()) {
    const yamls = safeList(file).filter((f) => /\.ya?ml$/i.test(f));
    throw new ScalpelError(ErrorCode.Io, `${given} is a directory, not a recipe file`, {
      location: { file },
      hint:
        yamls.length > 0
          ? `pass one of the recipes in it, e.g. ${resolve(file, yamls[0] ?? '')}`
          : 'pass the path of a .yaml recipe file',
    });
  }
  if (!stats.isFile()) {
    // Reading a FIFO or socket would block or fail in odd ways.
    throw new ScalpelError(ErrorCode.Io, `${given} is not a regular file`, {
      location: { file },
      hint: 'pass the path of a .yaml recipe file',
    });
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw ioError(file, e);
  }
}

function ioError(file: string, e: unknown): ScalpelError {
  const err = e as NodeJS.ErrnoException;
  const hint =
    err.code === 'EACCES' || err.code === 'EPERM'
      ? `you have no permission to read it; check its permissions (ls -l ${file})`
      : 'check that the file exists and can be read';
  return new ScalpelError(
    ErrorCode.Io,
    `cannot read recipe file ${file}: ${err.code ?? ''} ${err.message}`.trim(),
    {
      location: { file },
      hint,
      cause: e,
    },
  );
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function missingFileHint(file: string): string {
  const dir = dirname(file);
  const siblings = safeList(dir).filter((f) => /\.ya?ml$/i.test(f));
  const best = closest(basename(file), siblings);
  if (best !== undefined) return `did you mean ${resolve(dir, best)}?`;
  return `check the path (relative paths are relative to the current directory, ${process.cwd()})`;
}

/** Load, override, validate and resolve a recipe. Throws ScalpelError on any user mistake. */
export async function loadRecipe(
  file: string,
  options: LoadRecipeOptions = {},
): Promise<ResolvedRecipe> {
  const abs = resolve(file);
  const text = readRecipeText(abs, file);
  const parsed = parseRecipeYaml(abs, text);
  const overrides = applyOverrides(parsed, options.set ?? []);
  // `${vars.x}` references: after --set (which may change vars), before any schema check.
  // Then `repeat:` stages become their rounds; `yaml` locates a round at its construct.
  const { data, yaml } = expandRounds(resolveVars(parsed.toJSON(), parsed), parsed);
  const doc = validateRecipeShape(data, yaml, overrides);
  // Relative paths resolve against baseDir when given (a run record's recipe.resolved.yaml
  // points back at the original recipe's directory), else against the file's own directory.
  const dir = resolve(dirname(abs), doc.baseDir ?? '.');

  const registry = (options.registry ?? (await sharedBuiltins())).clone();
  await loadRecipePlugins(registry, doc.plugins, dir, (i) => yaml.locate(['plugins', i]));

  const stages: ResolvedStage[] = [];
  for (const [id, stage] of Object.entries(doc.stages)) {
    validateStageParams(registry, id, stage, yaml, overrides);
    stages.push({
      id,
      uses: stage.uses,
      needs: stage.needs,
      params: stage.with,
      type: registry.stage(stage.uses),
    });
  }

  const name = doc.name ?? basename(abs, extname(abs)).replace(/[^A-Za-z0-9._-]/g, '-');
  const backend = options.backend ?? doc.backend;
  const threads = options.threads ?? doc.threads;
  const resolvedStages: Record<string, unknown> = {};
  for (const [id, stage] of Object.entries(doc.stages)) {
    resolvedStages[id] = {
      uses: stage.uses,
      needs: stage.needs,
      with: stage.with,
      ...(stage.description !== undefined ? { description: stage.description } : {}),
    };
  }
  const resolved: Record<string, unknown> = {
    version: doc.version,
    name,
    ...(doc.description !== undefined ? { description: doc.description } : {}),
    seed: doc.seed,
    backend,
    threads,
    plugins: doc.plugins,
    // Recorded for reference: the stages above already hold the substituted values.
    ...(doc.vars !== undefined ? { vars: doc.vars } : {}),
    stages: resolvedStages,
    ...(doc.sweep !== undefined ? { sweep: doc.sweep } : {}),
  };

  return {
    file: abs,
    dir,
    name,
    version: doc.version,
    seed: doc.seed,
    backend,
    threads,
    plugins: doc.plugins,
    stages,
    sweep: doc.sweep,
    // A deep copy: what is hashed and recorded must not change if a stage mutates its params.
    resolved: structuredClone(resolved),
    registry,
    locate: (path: string): SourceLocation => yaml.locate(path),
  };
}

/** loadRecipe plus the stage graph checks (missing needs, cycles, input kinds) and the files stages read. */
export async function validateRecipe(
  file: string,
  options: LoadRecipeOptions = {},
): Promise<{ recipe: ResolvedRecipe; dag: Dag }> {
  const recipe = await loadRecipe(file, options);
  const dag = buildDag(recipe);
  // Files the stages read (the model, dataset files) must exist and be readable.
  for (const node of dag.order) await stageFingerprint(recipe, node.stage);
  return { recipe, dag };
}

/**
 * The built-in registry, imported on first use: its stage modules load tfjs, and importing the
 * recipe loader (for `scalpel validate`, or a caller that passes its own registry) should not.
 */
async function sharedBuiltins(): Promise<Registry> {
  const { builtinRegistry } = await import('../registry/builtins.js');
  return builtinRegistry();
}
