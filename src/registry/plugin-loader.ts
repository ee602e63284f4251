// Loading plugin modules: by path (relative to the recipe) or by package name (resolved from the
// recipe's directory, then from scalpel's own installation). Every failure is an E_PLUGIN error
// naming the plugin and, for recipe plugins, the position of its `plugins:` entry.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCode, ScalpelError, type SourceLocation } from '../errors.js';
import type { ScalpelPlugin } from '../plugin-api/plugin.js';
import { packageRoot } from '../util/package-root.js';
import type { Registry } from './registry.js';

const moduleExtensions = new Set(['.js', '.mjs', '.cjs']);

/** True for `./x.js`, `../x.mjs`, `/abs/x.js`, `plugins/x.js`: anything that is not a package name. */
export function isPathSpecifier(spec: string): boolean {
  return (
    spec.startsWith('./') ||
    spec.startsWith('../') ||
    spec === '.' ||
    spec === '..' ||
    isAbsolute(spec) ||
    moduleExtensions.has(extname(spec)) ||
    extname(spec) === '.ts' ||
    spec.includes('\\')
  );
}

function pluginError(
  plugin: string,
  message: string,
  location: SourceLocation | undefined,
  hint?: string,
  cause?: unknown,
): ScalpelError {
  return new ScalpelError(ErrorCode.Plugin, `plugin '${plugin}': ${message}`, {
    plugin,
    ...(location !== undefined ? { location } : {}),
    ...(hint !== undefined ? { hint } : {}),
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** Re-raise a registry error with the location of the `plugins:` entry. */
function withLocation(e: unknown, location: SourceLocation | undefined): unknown {
  if (!(e instanceof ScalpelError) || location === undefined || e.location !== undefined) return e;
  return new ScalpelError(e.code, e.message, {
    location,
    ...(e.hint !== undefined ? { hint: e.hint } : {}),
    ...(e.plugin !== undefined ? { plugin: e.plugin } : {}),
    cause: e,
  });
}

/** Where a package's ESM entry point is, without relying on `require` conditions. */
function packageEntry(pkgDir: string): string | undefined {
  const pkgFile = join(pkgDir, 'package.json');
  if (!existsSync(pkgFile)) return undefined;
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
    exports?: unknown;
    module?: unknown;
    main?: unknown;
  };
  const pick = (e: unknown): string | undefined => {
    if (typeof e === 'string') return e;
    if (e !== null && typeof e === 'object') {
      const o = e as Record<string, unknown>;
      return pick(o['.']) ?? pick(o.import) ?? pick(o.node) ?? pick(o.default);
    }
    return undefined;
  };
  const rel =
    pick(pkg.exports) ?? (typeof pkg.main === 'string' ? pkg.main : undefined) ?? 'index.js';
  const file = join(pkgDir, rel);
  return existsSync(file) ? file : undefined;
}

function resolvePackage(spec: string, fromDir: string): string | undefined {
  try {
    return createRequire(join(fromDir, '__scalpel_resolve__.js')).resolve(spec);
  } catch {
    // ESM-only packages (exports without a "require" condition): look for node_modules/<spec>.
    for (let dir = fromDir; ; dir = dirname(dir)) {
      const entry = packageEntry(join(dir, 'node_modules', spec));
      if (entry !== undefined) return entry;
      if (dirname(dir) === dir) return undefined;
    }
  }
}

/** Absolute path of the module a `plugins:` entry names. */
export function resolvePluginPath(
  spec: string,
  baseDir: string,
  location?: SourceLocation,
): string {
  if (isPathSpecifier(spec)) {
    const file = resolve(baseDir, spec);
    if (!existsSync(file)) {
      throw pluginError(
        spec,
        `module not found: no file at ${file}`,
        location,
        `plugin paths are relative to the recipe's directory (${baseDir}); check the spelling`,
      );
    }
    if (statSync(file).isDirectory()) {
      throw pluginError(
        spec,
        `${file} is a directory`,
        location,
        'point at the module file itself, e.g. my-plugin/index.js',
      );
    }
    const ext = extname(file);
    if (ext === '.ts') {
      throw pluginError(
        spec,
        'TypeScript sources cannot be loaded directly',
        location,
        'compile the plugin (tsc) and list the .js file',
      );
    }
    if (!moduleExtensions.has(ext)) {
      throw pluginError(
        spec,
        `'${ext || '(no extension)'}' is not a JavaScript module`,
        location,
        'a plugin is a .js, .mjs or .cjs module',
      );
    }
    return file;
  }
  if (isBuiltin(spec)) {
    throw pluginError(
      spec,
      'is a Node.js built-in module, not a plugin',
      location,
      'list a plugin module path (./my-plugin.js) or a plugin package name',
    );
  }
  const found = resolvePackage(spec, baseDir) ?? resolvePackage(spec, packageRoot);
  if (found === undefined) {
    throw pluginError(
      spec,
      `package not found (looked in node_modules above ${baseDir} and in scalpel's own)`,
      location,
      `install it (npm i ${spec}), or, if it is a file, write a path starting with ./`,
    );
  }
  return found;
}

/** Import a plugin module and return the ScalpelPlugin it exports. */
export async function importPlugin(
  file: string,
  label: string,
  location?: SourceLocation,
): Promise<ScalpelPlugin> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    const detail =
      e instanceof Error ? `${e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}` : String(e);
    throw pluginError(
      label,
      `threw while loading: ${detail}`,
      location,
      `fix the plugin module ${file} (run it with node to see the full error)`,
      e,
    );
  }
  const looksLikePlugin = (v: unknown): v is ScalpelPlugin =>
    v !== null &&
    typeof v === 'object' &&
    ['stages', 'pruners', 'solvers', 'families'].some(
      (k) => (v as Record<string, unknown>)[k] !== undefined,
    );
  const candidate = looksLikePlugin(mod.default)
    ? mod.default
    : looksLikePlugin(mod)
      ? mod
      : undefined;
  if (candidate === undefined) {
    throw pluginError(
      label,
      'exports nothing usable',
      location,
      'a plugin module exports (as default, or as named exports) `stages`, `pruners`, `solvers` and/or `families` lists; see definePlugin in the scalpel API',
    );
  }
  if (
    candidate.name !== undefined &&
    (typeof candidate.name !== 'string' || candidate.name === '')
  ) {
    throw pluginError(label, '`name` must be a non-empty string', location);
  }
  return candidate;
}

/** Resolve, import and register one plugin into `registry`. Returns the plugin's name. */
export async function loadPluginInto(
  registry: Registry,
  spec: string,
  baseDir: string,
  location?: SourceLocation,
): Promise<string> {
  const file = resolvePluginPath(spec, baseDir, location);
  const plugin = await importPlugin(file, spec, location);
  const name = plugin.name ?? spec;
  try {
    registry.registerAll(plugin, name);
  } catch (e) {
    throw withLocation(e, location);
  }
  return name;
}

/** Load a recipe's `plugins:` list in order. `locate(i)` gives the position of entry i. */
export async function loadRecipePlugins(
  registry: Registry,
  specs: readonly string[],
  recipeDir: string,
  locate: (index: number) => SourceLocation,
): Promise<string[]> {
  const names: string[] = [];
  const seen = new Map<string, string>();
  for (const [i, spec] of specs.entries()) {
    const location = locate(i);
    const file = resolvePluginPath(spec, recipeDir, location);
    const earlier = seen.get(file);
    if (earlier !== undefined) {
      throw pluginError(
        spec,
        `is the same module as '${earlier}' (${file})`,
        location,
        'list each plugin once',
      );
    }
    seen.set(file, spec);
    names.push(await loadPluginInto(registry, spec, recipeDir, location));
  }
  return names;
}
