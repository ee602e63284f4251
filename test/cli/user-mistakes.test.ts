// Mistakes a new user makes on the command line, through the real CLI: each exits 2 with a
// message saying what to do, prints no stack trace, and leaves nothing half-written behind.
import { strict as assert } from 'node:assert';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { runCli, writeRecipe } from './cli-helpers.js';

const stackLine = /^\s{4}at /m;

function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

describe('CLI: user mistakes', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = tempDir('scalpel-cli-mistakes-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--backend tensorflow without tfjs-node: exit 2, says what to install, no run directory', async function () {
    if (installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu')) this.skip();
    const recipe = writeRecipe(dir, { a: { uses: 'count' } }, { file: 'tf.yaml' });
    const out = join(dir, 'tf-run');
    const r = await runCli(['run', recipe, '--backend', 'tensorflow', '--out', out], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /E_BACKEND: the tensorflow backend is not available/);
    assert.match(r.stderr, /hint: .*`npm i @tensorflow\/tfjs-node`/);
    assert.doesNotMatch(r.stderr, stackLine);
    assert.ok(!existsSync(out), 'no run record for invalid input');
    assert.ok(!existsSync(join(dir, 'runs')) || readdirSync(join(dir, 'runs')).length === 0);
  });

  it('--help and usage errors load neither tfjs nor vega (they answer at once)', async () => {
    // A module hook (it runs in the loader thread) appends every resolved URL to a file.
    const log = join(dir, 'loaded.txt');
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';\n` +
        `export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }\n`,
    );
    const register = join(dir, 'register.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
    );
    for (const args of [
      ['--help'],
      ['run', '--help'],
      ['sweep', '--help'],
      ['report', '--frobnicate'],
    ]) {
      rmSync(log, { force: true });
      const r = await runCli(args, dir, {
        NODE_OPTIONS: `--import ${pathToFileURL(register).href}`,
      });
      assert.ok(r.code === 0 || r.code === 2, r.stderr);
      const urls = readFileSync(log, 'utf8');
      assert.match(urls, /cli\/main\.js/, 'the hook saw the CLI load');
      assert.doesNotMatch(
        urls,
        /@tensorflow|node_modules\/vega/,
        `${args.join(' ')} loaded tfjs or vega`,
      );
    }
  });

  it('stages prune lists each pruner with its own parameters; an unknown name lists each name once', async () => {
    const r = await runCli(['stages', 'prune'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Parameters by `method`/);
    assert.match(r.stdout, /^\s+sparsegpt\s+percdamp \(0\.01\), blocksize \(128\), pattern$/m);
    assert.match(r.stdout, /^\s+wanda\s+granularity \("per-output"\), pattern$/m);
    assert.match(r.stdout, /^\s+icbs\s+init, initSamples \(1000\),/m);
    const typo = await runCli(['stages', 'nope'], dir);
    assert.equal(typo.code, 2);
    assert.equal(typo.stderr.match(/'icbs'/g)?.length, 1, typo.stderr);
  });

  it("validate on a sweep checks each trial's stage graph (a method that needs a calibrate stage)", async () => {
    const model = join(repoRoot, 'assets', 'garment-classifier', 'model.json');
    const file = join(dir, 'method-sweep.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'stages:',
        `  model: { uses: load-model, with: { path: ${JSON.stringify(model)} } }`,
        '  prune: { uses: prune, needs: [model], with: { method: magnitude, density: 0.5 } }',
        'sweep:',
        '  parameters:',
        '    m: { paths: [stages.prune.with.method], values: [magnitude, wanda] }',
        '',
      ].join('\n'),
    );
    const r = await runCli(['validate', file], dir);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /E_SWEEP: trial \d+ \(m='wanda'\) is invalid: E_GRAPH: .*'calibration'/);
    assert.match(r.stderr, /hint: add a stage that produces 'calibration' \(uses: calibrate\)/);
  });

  it('run / plan on a sweep file: exit 2, pointing to scalpel sweep; validate accepts it as a sweep', async () => {
    writeRecipe(dir, { a: { uses: 'count', with: { value: 1 } } }, { file: 'base.yaml' });
    const sweepFile = join(dir, 'sweep.yaml');
    writeFileSync(
      sweepFile,
      'recipe: base.yaml\nsweep:\n  parameters:\n    v: { paths: [stages.a.with.value], values: [1, 2] }\n',
    );
    for (const cmd of ['run', 'plan']) {
      const r = await runCli([cmd, sweepFile], dir);
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.ok(
        r.stderr.startsWith(`${sweepFile}:1:1: E_RECIPE_SCHEMA: this is a sweep file`),
        r.stderr,
      );
      assert.match(r.stderr, /hint: run it with `scalpel sweep <file>`.*base\.yaml/);
      assert.doesNotMatch(r.stderr, stackLine);
    }
    assert.ok(!existsSync(join(dir, 'runs')), 'no run record');
    const v = await runCli(['validate', sweepFile], dir);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /sweep file valid — recipe .*base\.yaml, 2 trials/);
  });
});
