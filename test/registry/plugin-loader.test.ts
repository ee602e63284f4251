import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../../src/registry/registry.js';
import {
  isPathSpecifier,
  loadPluginInto,
  loadRecipePlugins,
  resolvePluginPath,
} from '../../src/registry/plugin-loader.js';
import { ScalpelError } from '../../src/errors.js';
import { tempDir } from '../helpers/paths.js';

const stageSource = (name: string): string => `{
  name: '${name}', version: '1', description: 'd', output: 'metrics',
  schema: { type: 'object', additionalProperties: false, properties: {} },
  async run() { return { kind: 'metrics' }; },
}`;

async function rejects(p: Promise<unknown>): Promise<ScalpelError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ScalpelError, String(e));
    return e;
  }
  assert.fail('expected an error');
}

describe('plugin loader', function () {
  const dir = tempDir('scalpel-plugins-');
  writeFileSync(join(dir, 'named.mjs'), `export const stages = [${stageSource('named-stage')}];\n`);
  writeFileSync(
    join(dir, 'default.js'),
    `export default { name: 'my-plugin', stages: [${stageSource('default-stage')}] };\n`,
  );
  writeFileSync(join(dir, 'src.ts'), 'export {};\n');
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  // An ESM-only package (exports with an "import" condition only) in node_modules.
  const pkg = join(dir, 'node_modules', 'scalpel-plugin-esm');
  mkdirSync(join(pkg, 'lib'), { recursive: true });
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: 'scalpel-plugin-esm',
      type: 'module',
      exports: { '.': { import: './lib/main.js' } },
    }),
  );
  writeFileSync(
    join(pkg, 'lib', 'main.js'),
    `export default { name: 'esm-pkg', stages: [${stageSource('pkg-stage')}] };\n`,
  );

  it('tells paths from package names', function () {
    for (const p of ['./a.js', '../a.mjs', '/abs/a.js', 'plugins/x.js', 'x.ts'])
      assert.ok(isPathSpecifier(p), p);
    for (const p of ['scalpel-plugin-x', '@scope/pkg', '@scope/pkg/sub'])
      assert.ok(!isPathSpecifier(p), p);
  });

  it('loads named exports and default exports by path, with the plugin name as origin', async function () {
    const r = new Registry();
    assert.equal(await loadPluginInto(r, './named.mjs', dir), './named.mjs');
    assert.equal(await loadPluginInto(r, './default.js', dir), 'my-plugin');
    assert.equal(r.originOf('stage', 'named-stage'), './named.mjs');
    assert.equal(r.originOf('stage', 'default-stage'), 'my-plugin');
  });

  it('loads an ESM-only package from the recipe directory', async function () {
    const r = new Registry();
    const file = resolvePluginPath('scalpel-plugin-esm', dir);
    assert.equal(file, join(pkg, 'lib', 'main.js'));
    await loadPluginInto(r, 'scalpel-plugin-esm', dir);
    assert.equal(r.originOf('stage', 'pkg-stage'), 'esm-pkg');
  });

  it('reports missing files, directories and TypeScript sources with the entry location', async function () {
    const at = { file: '/r.yaml', line: 3, col: 5 };
    const missing = await rejects(loadPluginInto(new Registry(), './nope.js', dir, at));
    assert.equal(missing.code, 'E_PLUGIN');
    assert.deepEqual(missing.location, at);
    assert.match(missing.message, new RegExp(`no file at ${join(dir, 'nope.js')}`));
    assert.match(
      (await rejects(loadPluginInto(new Registry(), './node_modules', dir))).message,
      /is a directory/,
    );
    assert.match(
      (await rejects(loadPluginInto(new Registry(), './src.ts', dir))).message,
      /TypeScript/,
    );
  });

  it('rejects the same module listed twice under different spellings', async function () {
    const e = await rejects(
      loadRecipePlugins(
        new Registry(),
        ['./named.mjs', '../' + dir.split('/').pop() + '/named.mjs'],
        dir,
        (i) => ({ file: '/r.yaml', line: i + 1 }),
      ),
    );
    assert.match(e.message, /same module as '.\/named.mjs'/);
    assert.equal(e.location?.line, 2);
  });
});
