import { strict as assert } from 'node:assert';
import { availableParallelism } from 'node:os';
import { ScalpelError } from '../../src/errors.js';
import {
  maxDataParallelThreads,
  maxWasmThreads,
  threadBudget,
  threadsPerProcess,
  wasmThreadsFromEnv,
} from '../../src/models/threads.js';

describe('thread budget shared by stage processes', () => {
  it('auto is every core; a number is itself', () => {
    assert.equal(threadBudget('auto'), availableParallelism());
    assert.equal(threadBudget(3), 3);
  });

  it('splits the budget over --jobs processes, at least 1 and at most 64 each', () => {
    const cases: [number | 'auto', number, number][] = [
      [1, 1, 1],
      [1, 4, 1], // threads: 1 stays the single-threaded build, whatever the jobs
      [2, 1, 2],
      [2, 2, 1],
      [4, 3, 1], // floor(4 / 3)
      [6, 2, 3],
      [16, 2, 8],
      [32, 1, 32], // data-parallel worker threads: no tfjs pool limit
      [100, 1, maxDataParallelThreads],
      ['auto', 1, Math.min(64, availableParallelism())],
      ['auto', 2, Math.min(64, Math.max(1, Math.floor(availableParallelism() / 2)))],
    ];
    for (const [choice, jobs, want] of cases)
      assert.equal(threadsPerProcess(choice, jobs), want, `${choice} threads, ${jobs} jobs`);
    assert.equal(maxDataParallelThreads, 64);
  });

  it('takes the threaded-build experiment from SCALPEL_WASM_THREADS only (default 1, at most 8)', () => {
    assert.equal(wasmThreadsFromEnv({}), 1);
    assert.equal(wasmThreadsFromEnv({ SCALPEL_WASM_THREADS: '' }), 1);
    assert.equal(wasmThreadsFromEnv({ SCALPEL_WASM_THREADS: '2' }), 2);
    assert.equal(wasmThreadsFromEnv({ SCALPEL_WASM_THREADS: '40' }), maxWasmThreads);
    assert.equal(
      wasmThreadsFromEnv({ SCALPEL_WASM_THREADS: 'auto' }),
      Math.min(8, availableParallelism()),
    );
    for (const bad of ['0', 'two', '1.5']) {
      assert.throws(
        () => wasmThreadsFromEnv({ SCALPEL_WASM_THREADS: bad }),
        (e: unknown) =>
          e instanceof ScalpelError &&
          e.code === 'E_USAGE' &&
          e.message.includes(`SCALPEL_WASM_THREADS=${bad}`),
      );
    }
  });
});
