// Files and parameters that used to pass `scalpel validate` and fail only after the run started
// (exit 1), or failed with a raw EISDIR / binary dump: each is now refused by validate with exit 2,
// the recipe's file:line:col, and a message naming the file or parameter with a hint.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/models/backend.js';
import { saveLayersModelToDir } from '../../src/models/tfjs-layers/model-files.js';
import { tempDir } from '../helpers/paths.js';
import { gpt2Case, writeCase } from '../models/hf-family/fixtures.js';
import { runCli, type CliResult } from './cli-helpers.js';

const stackLine = /^\s{4}at /m;

/** The text under each "<file>: invalid" header of a multi-file validate. */
function blocks(stderr: string): Map<string, string> {
  const out = new Map<string, string>();
  const heads = [...stderr.matchAll(/^(.+): invalid$/gm)];
  heads.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length + 1;
    out.set(m[1] ?? '', stderr.slice(start, heads[i + 1]?.index ?? stderr.length));
  });
  return out;
}

describe('CLI validate: files and solver limits checked before anything runs', function () {
  this.timeout(60000);
  let dir: string;
  let result: CliResult;
  let byFile: Map<string, string>;
  let hfDir: string | undefined;
  /** weights.bin's size as the manifest implies it: Dense 3→2 with bias, float32. */
  const weightBytes = (3 * 2 + 2) * 4;

  const recipe = async (name: string, stages: string): Promise<string> => {
    const file = join(dir, `${name}.yaml`);
    await fs.writeFile(file, `version: 1\nbackend: cpu\nstages:\n${stages}`);
    return file;
  };
  const model = (path: string): string =>
    `  model: { uses: load-model, with: { path: ${path} } }\n`;
  const icbs = (params: string): string =>
    model('m/model.json') +
    '  data: { uses: load-dataset, with: { source: fashion-mnist } }\n' +
    `  prune: { uses: prune, needs: [model, data], with: { method: icbs, density: 0.5, ${params}solver: { uses: exhaustive } } }\n`;

  before(async () => {
    dir = tempDir('scalpel-validate-files-');
    await initBackend('cpu');
    const tensorsBefore = tf.memory().numTensors; // other files' fixtures may hold some
    const m = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [3], units: 2, name: 'fc' })],
    });
    await saveLayersModelToDir(m, join(dir, 'm'));
    await saveLayersModelToDir(m, join(dir, 'short'));
    m.dispose();
    assert.equal((await fs.stat(join(dir, 'm', 'weights.bin'))).size, weightBytes);
    await fs.truncate(join(dir, 'short', 'weights.bin'), weightBytes - 4);

    const hf = await writeCase(gpt2Case);
    hfDir = dirname(hf);
    const shard = (await fs.readdir(hf)).filter((f) => f.endsWith('.safetensors')).sort()[0];
    assert.ok(shard !== undefined);
    const full = (await fs.stat(join(hf, shard))).size;
    await fs.truncate(join(hf, shard), full - 8);

    // An HDF5 signature followed by bytes that are not UTF-8.
    const h5 = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0xff, 0xfe, 1]);
    await fs.writeFile(join(dir, 'model.h5'), h5);
    await fs.mkdir(join(dir, 'data-dir'));
    await fs.writeFile(join(dir, 'data-dir', 'train.csv'), 'label,a\n0,1\n');

    const files = [
      await recipe('short-weights', model('short/model.json')),
      await recipe('short-safetensors', model(hf)),
      await recipe('h5', model('model.h5')),
      await recipe(
        'data-dir',
        '  data: { uses: load-dataset, with: { source: csv, path: data-dir } }\n',
      ),
      await recipe('exhaustive-big', icbs('blockSize: 64, k: 32, ')),
      await recipe('exhaustive-default', icbs('')),
      await recipe('exhaustive-ok', icbs('blockSize: 24, k: 12, ')),
    ];
    result = await runCli(['validate', ...files], dir);
    byFile = blocks(result.stderr);
    assert.equal(tf.memory().numTensors, tensorsBefore, 'the test itself leaks no tensors');
  });
  after(async () => {
    if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
    if (hfDir !== undefined) await fs.rm(hfDir, { recursive: true, force: true });
  });

  const errorOf = (name: string): string => {
    const text = byFile.get(join(dir, `${name}.yaml`));
    assert.ok(text !== undefined, `${name} was not reported invalid:\n${result.stderr}`);
    assert.doesNotMatch(text, stackLine);
    return text;
  };

  it('exits 2 (invalid input) and accepts the exhaustive solver with a block it can solve', () => {
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, /exhaustive-ok\.yaml: valid/);
    assert.equal(byFile.size, 6, result.stderr);
  });

  it('a tfjs weights.bin shorter than its manifest: E_DATA with both byte counts', () => {
    const e = errorOf('short-weights');
    assert.match(e, /short-weights\.yaml:4:36: E_DATA: /);
    assert.match(
      e,
      new RegExp(
        `weights\\.bin of short/model\\.json holds ${weightBytes - 4} bytes but its weightsManifest describes ${weightBytes}.*truncated`,
      ),
    );
    assert.match(e, /hint: copy the weight files again/);
  });

  it('a safetensors file shorter than its header: E_DATA naming the file', () => {
    const e = errorOf('short-safetensors');
    // Located at the shard itself (the header is what is wrong), with the stage named.
    assert.match(
      e,
      /model-00001-of-00003\.safetensors: E_DATA: .*model-00001-of-00003\.safetensors is not a valid safetensors file .*run past the \d+ data bytes in the file \(truncated\?\) \(stage 'model'\)/,
    );
    assert.match(e, /hint: the file is corrupt or truncated/);
  });

  it('a Keras .h5 file: says it is HDF5 and how to convert it', () => {
    const e = errorOf('h5');
    assert.match(
      e,
      /E_DATA: model\.h5 is an HDF5 file \(a Keras \.h5 model\), not a tfjs model\.json/,
    );
    assert.match(
      e,
      /hint: convert it with `tensorflowjs_converter --input_format keras model\.h5 out_dir\/`/,
    );
    assert.doesNotMatch(e, /\uFFFD|EISDIR/, 'no binary bytes in the message');
  });

  it('a dataset path that is a directory: says which file the source reads', () => {
    const e = errorOf('data-dir');
    assert.match(
      e,
      /E_IO: load-dataset: .*data-dir is a directory; source 'csv' reads one \.csv file per split/,
    );
    assert.match(e, /hint: name the file\(s\) inside it, e\.g\. path: .*data-dir\/train\.csv/);
    assert.doesNotMatch(e, /EISDIR/);
  });

  it('exhaustive with blockSize above 24: the blockSize is located; the default block must be written', () => {
    const big = errorOf('exhaustive-big');
    // line 6 is the prune stage; blockSize's value starts at column 89 of that line
    const line =
      'prune: { uses: prune, needs: [model, data], with: { method: icbs, density: 0.5, blockSize: 64';
    assert.match(big, new RegExp(`exhaustive-big\\.yaml:6:${line.length + 1}: E_RECIPE_SCHEMA: `));
    assert.match(big, /blockSize: expected a value ≤ 24, found 64/);
    assert.match(big, /hint: .*solver 'exhaustive' handles blocks of at most 24 variables/);
    const dflt = errorOf('exhaustive-default');
    assert.match(dflt, /E_RECIPE_SCHEMA: .*missing required key 'blockSize'/);
  });
});
