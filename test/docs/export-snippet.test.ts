// docs/export.md's loadSparseModel example, taken verbatim from the doc and run as a script of a
// user's project in a fresh Node process (no backend set up by anyone): it must load the sparse
// export and give back exactly the weights that were written.
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/models/backend.js';
import { writeSparseModel } from '../../src/models/tfjs-layers/sparse-format.js';
import { repoRoot } from '../helpers/paths.js';
import { runNode, tempProject } from './temp-project.js';

/** The first ```ts block after `marker` in a doc. */
function snippetAfter(doc: string, marker: string): string {
  const text = readFileSync(join(repoRoot, doc), 'utf8');
  const from = text.indexOf(marker);
  assert.ok(from >= 0, `${doc} has no '${marker}'`);
  const m = /```ts\n([\s\S]*?)```/.exec(text.slice(from));
  assert.ok(m?.[1] !== undefined, `no ts block after '${marker}' in ${doc}`);
  return m[1];
}

describe('docs/export.md: the loadSparseModel snippet runs as written', function () {
  this.timeout(60000);
  let dir: string;
  let written: number[][];

  before(async () => {
    dir = tempProject('scalpel-doc-export-');
    await initBackend('cpu');
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [3], units: 2, name: 'fc' })],
    });
    // Pruned-looking weights: zeros (stored as 0 bits), a −0 and a NaN (stored values).
    const values = [tf.tensor2d([0, 1.5, 0, -0, -2.25, NaN], [3, 2]), tf.tensor1d([0, 0.5])];
    model.layers[0]?.setWeights(values);
    tf.dispose(values);
    written = model.getWeights().map((w) => Array.from(w.dataSync()));
    const out = join(dir, 'assets', 'my-pruned-model');
    mkdirSync(out, { recursive: true });
    await writeSparseModel(model, out);
    model.dispose();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the model with the written weights (bit patterns included)', async () => {
    const snippet = snippetAfter('docs/export.md', 'Loading, in Node');
    assert.match(snippet, /loadSparseModel\('assets\/my-pruned-model'\)/);
    const print =
      '\nconsole.log(JSON.stringify(model.getWeights().map((w) => Array.from(new Uint32Array(w.dataSync().buffer)))));\n';
    writeFileSync(join(dir, 'snippet.mjs'), snippet + print);
    const r = await runNode(['snippet.mjs'], dir);
    assert.equal(r.code, 0, r.stderr);
    const bits = (xs: number[]): number[] =>
      Array.from(new Uint32Array(Float32Array.from(xs).buffer));
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(JSON.parse(lines[lines.length - 1] ?? ''), written.map(bits));
  });
});
