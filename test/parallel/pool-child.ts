// Child process of pool.test.ts: evaluates the tiny GPT-2 on 2 worker threads and prints the
// metrics; with `close` it closes the pool, without it leaves the idle workers to the process's
// end — either way the process must exit by itself. `release` first splits a gradient pass and
// disposes it, so that the workers' release replies arrive while the pool closes.
import { initBackend } from '../../src/models/backend.js';
import {
  closeDataParallel,
  configureDataParallel,
  dataParallelPool,
} from '../../src/parallel/context.js';
import { evaluateModel } from '../../src/parallel/evaluation.js';
import { ParallelGradients } from '../../src/parallel/gradients.js';
import { disposeBatch } from '../../src/data/batches.js';
import { sampleSequences, tinyLms, tokenSplit } from '../icbs/lm/fixtures.js';

const lm = tinyLms()[0];
if (lm === undefined) throw new Error('no tiny LM');
await initBackend('wasm');
configureDataParallel(2, 'wasm');
const model = lm.open();
const split = tokenSplit('test', sampleSequences(lm, 6, 5, 3));
const m = await evaluateModel(model, split, { batchSize: 2 });
let tasks = dataParallelPool()?.completed ?? 0;
if (process.argv[2] === 'release') {
  const pg = await ParallelGradients.create(model, { minWork: 0 });
  const batch = model.task.batch(split);
  const g = await pg?.compute(batch, model.operators[0]?.name ?? '');
  await g?.meanGradient();
  tasks = dataParallelPool()?.completed ?? 0;
  g?.dispose();
  disposeBatch(batch);
}
if (process.argv[2] === 'close' || process.argv[2] === 'release') await closeDataParallel();
model.dispose();
process.stdout.write(`${JSON.stringify({ loss: m.loss, tasks })}\n`);
