// Corrupt files written by scalpel and read back through the public readers (loadSparseModel,
// readMasks): each defect is a located E_DATA (file, byte offset, tensor) with a hint — or E_IO
// for a missing file — never a raw Error or a TypeError.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ErrorCode, ExitCode, isScalpelError, type ScalpelError } from '../../src/errors.js';
import { initBackend } from '../../src/models/backend.js';
import { readMasks, writeMasks } from '../../src/models/mask-files.js';
import { loadSparseModel, writeSparseModel } from '../../src/index.js';
import { tempDir } from '../helpers/paths.js';

/** The ScalpelError `p` rejects with (fails the test if it resolves or throws anything else). */
async function failure(p: Promise<unknown>): Promise<ScalpelError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isScalpelError(e), `not a ScalpelError: ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

function assertData(e: ScalpelError, file: string, message: RegExp): void {
  assert.equal(e.code, ErrorCode.Data, e.format());
  assert.equal(e.exitCode, ExitCode.invalidInput);
  assert.ok(e.message.startsWith(file), `${e.message} does not start with ${file}`);
  assert.match(e.message, message);
  assert.equal(e.location?.file, file);
  assert.ok(e.hint !== undefined && e.hint.length > 0, 'no hint');
}

describe('bad files read through the public readers', () => {
  let dir: string;
  // fc: Dense 3→2; the kernel keeps 2 of 6 weights, so it is stored as a bitmask
  const kernel = [0, 1.5, 0, 0, -2.25, 0];
  const bias = [0.5, -1];
  let kernelOffset = -1;

  before(async () => {
    await initBackend('cpu');
    dir = tempDir('scalpel-bad-files-');
    const m = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [3], units: 2, name: 'fc' })],
    });
    const [k, b] = [tf.tensor2d(kernel, [3, 2]), tf.tensor1d(bias)];
    m.setWeights([k, b]);
    tf.dispose([k, b]);
    const manifest = await writeSparseModel(m, dir);
    m.dispose();
    const entry = manifest.weights.find((w) => w.spec.name === 'fc/kernel');
    assert.equal(entry?.encoding, 'bitmask');
    assert.equal(entry?.stored, 2);
    kernelOffset = entry.offset;
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  /** A copy of the sparse model in its own directory, with `edit` applied. */
  async function variant(
    name: string,
    edit: (files: { json: string; bin: Buffer }) => { json?: string; bin?: Buffer | null },
  ): Promise<string> {
    const out = join(dir, name);
    await fs.mkdir(out);
    const json = await fs.readFile(join(dir, 'sparse.json'), 'utf8');
    const bin = await fs.readFile(join(dir, 'sparse.bin'));
    const e = edit({ json, bin: Buffer.from(bin) });
    await fs.writeFile(join(out, 'sparse.json'), e.json ?? json);
    if (e.bin !== null) await fs.writeFile(join(out, 'sparse.bin'), e.bin ?? bin);
    return out;
  }

  it('loads the intact model with the weights that were written (the baseline)', async () => {
    const before = tf.memory().numTensors;
    const m = await loadSparseModel(dir);
    const [k, b] = m.getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual(k, kernel);
    assert.deepEqual(b, bias);
    m.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('sparse.bin: a bitmask with more bits than stored values names the file and byte', async () => {
    const d = await variant('bits', ({ bin }) => {
      bin[kernelOffset] = 0b111111; // six bits set, two values stored
      return { bin };
    });
    const e = await failure(loadSparseModel(d));
    const file = join(d, 'sparse.bin');
    assertData(e, file, /at byte \d+: weight 'fc\/kernel': the bitmask has more bits set/);
    // the third set bit (element 2) is in the kernel's first mask byte
    assert.ok(e.message.includes(`at byte ${kernelOffset}:`), e.message);
    assert.equal(e.layer, 'fc/kernel');
  });

  it('sparse.bin: a truncated file names the weight it cuts', async () => {
    const d = await variant('short', ({ bin }) => ({ bin: bin.subarray(0, kernelOffset + 5) }));
    const e = await failure(loadSparseModel(d));
    assertData(e, join(d, 'sparse.bin'), /weight 'fc\/kernel': truncated: 12 bytes expected/);
  });

  it('sparse.json: not JSON, or weights that are not a list, is E_DATA naming sparse.json', async () => {
    const notJson = await variant('not-json', () => ({ json: '{"format": "scalpel-sparse",' }));
    assertData(
      await failure(loadSparseModel(notJson)),
      join(notJson, 'sparse.json'),
      /is not valid JSON/,
    );
    const noList = await variant('no-list', ({ json }) => ({
      json: JSON.stringify({ ...(JSON.parse(json) as object), weights: { fc: 1 } }),
    }));
    assertData(
      await failure(loadSparseModel(noList)),
      join(noList, 'sparse.json'),
      /`weights` is not a list/,
    );
    const badEntry = await variant('bad-entry', ({ json }) => {
      const j = JSON.parse(json) as { weights: { offset: unknown }[] };
      (j.weights[1] as { offset: unknown }).offset = -4;
      return { json: JSON.stringify(j) };
    });
    assertData(
      await failure(loadSparseModel(badEntry)),
      join(badEntry, 'sparse.json'),
      /weights\[1\] is not/,
    );
  });

  it('a missing sparse.bin is E_IO "not found" naming it', async () => {
    const d = await variant('no-bin', () => ({ bin: null }));
    const e = await failure(loadSparseModel(d));
    assert.equal(e.code, ErrorCode.Io);
    assert.equal(e.message, `sparse model weights not found: ${join(d, 'sparse.bin')}`);
  });

  it('masks.bin shorter than masks.json says, and a masks.json that is not JSON', async () => {
    const md = join(dir, 'masks');
    await fs.mkdir(md);
    const mask = new Uint8Array(20).map((_, i) => (i % 3) & 1); // 20 bits: 3 bytes
    await writeMasks(md, new Map([['fc/kernel', mask]]), new Map([['fc/kernel', [4, 5]]]));
    assert.deepEqual(Array.from((await readMasks(md)).get('fc/kernel') ?? []), Array.from(mask));
    await fs.truncate(join(md, 'masks.bin'), 2);
    const e = await failure(readMasks(md));
    assertData(
      e,
      join(md, 'masks.bin'),
      /at byte 0: truncated: the mask of layer 'fc\/kernel' needs 3 bytes, the file holds 2/,
    );
    await fs.writeFile(join(md, 'masks.json'), 'not json');
    assertData(await failure(readMasks(md)), join(md, 'masks.json'), /is not valid JSON/);
  });
});
