// Validating a recipe must not load tfjs: src/recipe sits above src/registry, and the built-in
// registry (whose stage modules import tfjs) is imported only when a recipe needs it. Checked
// in a fresh node process whose module resolve hook fails on any @tensorflow/* import.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildRoot, tempDir } from '../helpers/paths.js';
import { goodRecipe } from './recipe-helpers.js';

/** A resolve hook that refuses tfjs, registered through --import. */
function writeHook(dir: string): string {
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@tensorflow/')) {
    throw new Error('TFJS_LOADED ' + specifier + ' from ' + context.parentURL);
  }
  return next(specifier, context);
}
`,
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  return register;
}

/** Run `code` (an ES module body) with the hook; returns the exit status and stderr. */
function runWithHook(code: string): { status: number | null; stderr: string; stdout: string } {
  const dir = tempDir('scalpel-no-tfjs-');
  const script = join(dir, 'main.mjs');
  writeFileSync(script, code);
  const r = spawnSync(process.execPath, ['--import', writeHook(dir), script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

const moduleUrl = (rel: string): string => pathToFileURL(join(buildRoot, rel)).href;

describe('recipe validation without tfjs', function () {
  this.timeout(60_000);

  it('the hook notices tfjs: importing the built-in registry fails with it', function () {
    const r = runWithHook(
      `await import(${JSON.stringify(moduleUrl('src/registry/builtins.js'))});\n`,
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /TFJS_LOADED @tensorflow\//);
  });

  it('importing the recipe loader, schema validation and the registry loads no tfjs', function () {
    const modules = [
      'src/recipe/load-recipe.js',
      'src/recipe/schema-validation.js',
      'src/registry/registry.js',
      'src/registry/plugin-loader.js',
    ];
    const imports = modules.map((m) => `await import(${JSON.stringify(moduleUrl(m))});`);
    const r = runWithHook(`${imports.join('\n')}\nconsole.log('IMPORTED');\n`);
    assert.equal(r.stderr.match(/TFJS_LOADED.*/)?.[0], undefined);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /IMPORTED/);
  });

  it('validating a recipe against a plugin registry loads no tfjs', function () {
    // The good pipeline fixture uses only the test-stages plugin, so an empty Registry suffices.
    const r = runWithHook(
      `const { validateRecipe } = await import(${JSON.stringify(moduleUrl('src/recipe/load-recipe.js'))});
const { Registry } = await import(${JSON.stringify(moduleUrl('src/registry/registry.js'))});
const { recipe, dag } = await validateRecipe(${JSON.stringify(goodRecipe)}, { registry: new Registry() });
console.log(JSON.stringify({ name: recipe.name, order: dag.order.map((n) => n.stage.id) }));
`,
    );
    assert.equal(r.stderr.match(/TFJS_LOADED.*/)?.[0], undefined);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim()) as { name: string; order: string[] };
    // The fixture's stages in file order (test/fixtures/good-recipes/pipeline.yaml).
    assert.deepEqual(out, {
      name: 'test-pipeline',
      order: ['model', 'data', 'prune', 'eval', 'report'],
    });
  });
});
