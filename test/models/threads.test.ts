import { strict as assert } from 'node:assert';
import { availableParallelism } from 'node:os';
import { maxWasmThreads, threadBudget, threadsPerProcess } from '../../src/models/threads.js';

describe('thread budget shared by stage processes', () => {
  it('auto is every core; a number is itself', () => {
    assert.equal(threadBudget('auto'), availableParallelism());
    assert.equal(threadBudget(3), 3);
  });

  it('splits the budget over --jobs processes, at least 1 and at most 8 each', () => {
    const cases: [number | 'auto', number, number][] = [
      [1, 1, 1],
      [1, 4, 1], // threads: 1 stays the single-threaded build, whatever the jobs
      [2, 1, 2],
      [2, 2, 1],
      [4, 3, 1], // floor(4 / 3)
      [6, 2, 3],
      [16, 2, 8],
      [64, 1, maxWasmThreads], // tfjs's pool has 8 workers
      ['auto', 1, Math.min(8, availableParallelism())],
      ['auto', 2, Math.min(8, Math.max(1, Math.floor(availableParallelism() / 2)))],
    ];
    for (const [choice, jobs, want] of cases)
      assert.equal(threadsPerProcess(choice, jobs), want, `${choice} threads, ${jobs} jobs`);
    assert.equal(maxWasmThreads, 8);
  });
});
