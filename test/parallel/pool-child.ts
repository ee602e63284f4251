// Child process of pool.test.ts: evaluates the tiny GPT-2 on 2 worker threads and prints the
// metrics; with `close` it closes the pool, without it leaves the idle workers to the process's
// end — either way the process must exit by itself.
import { initBackend } from '../../src/models/backend.js';
import {
  closeDataParallel,
  configureDataParallel,
  dataParallelPool,
} from '../../src/parallel/context.js';
import { evaluateModel } from '../../src/parallel/evaluation.js';
import { sampleSequences, tinyLms, tokenSplit } from '../icbs/lm/fixtures.js';

const lm = tinyLms()[0];
if (lm === undefined) throw new Error('no tiny LM');
await initBackend('wasm');
configureDataParallel(2, 'wasm');
const model = lm.open();
const split = tokenSplit('test', sampleSequences(lm, 6, 5, 3));
const m = await evaluateModel(model, split, { batchSize: 2 });
const tasks = dataParallelPool()?.completed ?? 0;
if (process.argv[2] === 'close') await closeDataParallel();
model.dispose();
process.stdout.write(`${JSON.stringify({ loss: m.loss, tasks })}\n`);
