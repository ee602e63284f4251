import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../../../src/errors.js';
import { initBackend } from '../../../src/models/backend.js';
import { AdamW } from '../../../src/models/training/adamw.js';
import {
  listCheckpoints,
  loadCheckpoint,
  newestCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
  type TrainingState,
} from '../../../src/models/training/checkpoint.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/paths.js';

function isError(code: ErrorCode, file: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof ScalpelError, String(e));
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(file), `message names the file: ${e.message}`);
    assert.ok(e.hint !== undefined && e.hint.length > 0, 'has a hint');
    return true;
  };
}

describe('training checkpoints', () => {
  before(async () => {
    await initBackend('wasm');
  });

  /** Two variables with awkward float32 values (−0, subnormal, NaN, ±∞) and an optimizer that has stepped. */
  function liveState(seed: number): TrainingState & { dispose(): void } {
    const odd = [-0, 1.4e-45, NaN, Infinity, -Infinity, 0.1, -3.5, 1e38];
    const a = tf.variable(tf.tensor2d(odd, [2, 4]));
    const b = tf.variable(tf.tensor1d([seed, 2 * seed]));
    const optimizer = new AdamW([a, b], { weightDecay: 0.1 });
    const g = { [a.name]: tf.ones([2, 4]), [b.name]: tf.tensor1d([0.5, -0.25]) };
    optimizer.update(g, 0.01);
    tf.dispose(Object.values(g));
    a.assign(tf.tensor2d(odd, [2, 4])); // keep the odd values for the round trip
    const rng = new Rng(seed);
    for (let i = 0; i < 37; i++) rng.nextUint32();
    return {
      variables: [a, b],
      optimizer,
      rngs: { dropout: rng },
      dispose: () => (tf.dispose([a, b]), optimizer.dispose()),
    };
  }

  it('round-trips every value bit for bit, the optimizer state and the RNG position', async () => {
    const dir = tempDir('scalpel-ckpt-');
    const src = liveState(3);
    const path = await saveCheckpoint(dir, 12, src, { note: 'loop state' });
    assert.equal(await newestCheckpoint(dir), path);
    const data = await loadCheckpoint(path);
    assert.equal(data.step, 12);
    assert.deepEqual(data.loop, { note: 'loop state' });
    const dst = liveState(3);
    dst.rngs.dropout?.nextUint32();
    restoreCheckpoint(data, dst, path);
    src.variables.forEach((v, k) => {
      const [x, y] = [v.dataSync(), (dst.variables[k] as tf.Variable).dataSync()];
      x.forEach((e, i) => assert.ok(Object.is(e, y[i]), `variable ${k}[${i}]: ${e} vs ${y[i]}`));
    });
    const [so, dso] = [src.optimizer.readState(), dst.optimizer.readState()];
    assert.equal(dso.step, so.step);
    assert.deepEqual(dso.m, so.m);
    assert.deepEqual(dso.v, so.v);
    assert.equal(dst.rngs.dropout?.nextUint32(), src.rngs.dropout?.nextUint32());
    src.dispose();
    dst.dispose();
  });

  it('keeps the newest checkpoints only', async () => {
    const dir = tempDir('scalpel-ckpt-');
    const s = liveState(1);
    for (const step of [3, 6, 9, 12]) await saveCheckpoint(dir, step, s, {}, 2);
    assert.deepEqual(
      (await listCheckpoints(dir)).map((c) => c.step),
      [9, 12],
    );
    assert.deepEqual(await listCheckpoints(join(dir, 'absent')), []);
    s.dispose();
  });

  it('a missing file is E_IO and a corrupt one E_DATA, both naming the file', async () => {
    const dir = tempDir('scalpel-ckpt-');
    const s = liveState(1);
    const path = await saveCheckpoint(dir, 5, s, {});
    s.dispose();
    const good = readFileSync(path);
    await assert.rejects(
      loadCheckpoint(join(dir, 'step-000000099.ckpt')),
      isError(ErrorCode.Io, 'step-000000099.ckpt'),
    );
    const variants: [string, Buffer][] = [
      ['truncated', good.subarray(0, good.length - 3)],
      ['flipped', Buffer.from(good.map((b, i) => (i === good.length - 5 ? b ^ 1 : b)))],
      ['garbage', Buffer.from('not a checkpoint at all')],
      ['empty', Buffer.alloc(0)],
      [
        'bad-header',
        Buffer.concat([
          good.subarray(0, 16),
          Buffer.from('{'.padEnd(good.readUInt32LE(8))),
          good.subarray(16 + good.readUInt32LE(8)),
        ]),
      ],
    ];
    for (const [name, bytes] of variants) {
      const file = join(dir, `${name}.ckpt`);
      writeFileSync(file, bytes);
      await assert.rejects(loadCheckpoint(file), isError(ErrorCode.Data, file), name);
    }
  });

  it('refuses a checkpoint of another model or run with E_DATA, before changing anything', async () => {
    const dir = tempDir('scalpel-ckpt-');
    const s = liveState(1);
    const path = await saveCheckpoint(dir, 5, s, {});
    const data = await loadCheckpoint(path);
    s.dispose();
    const x = tf.variable(tf.zeros([3, 3]));
    const other = { variables: [x], optimizer: new AdamW([x]), rngs: {} };
    assert.throws(() => restoreCheckpoint(data, other, path), isError(ErrorCode.Data, path));
    assert.deepEqual([...x.dataSync()], new Array(9).fill(0));
    other.optimizer.dispose();
    x.dispose();
    const t = liveState(2); // another seed for the 'dropout' stream
    assert.throws(() => restoreCheckpoint(data, t, path), isError(ErrorCode.Data, path));
    t.dispose();
  });
});
