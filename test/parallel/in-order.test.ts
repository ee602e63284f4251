// inOrderOverWorkers (src/parallel/in-order.ts): results taken in item order whatever order they
// finish in, never more than `window` items in flight, and a failure ends the pass with its error.
import { strict as assert } from 'node:assert';
import { inOrderOverWorkers } from '../../src/parallel/in-order.js';

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('inOrderOverWorkers', () => {
  it('takes results in item order with at most `window` in flight', async () => {
    // Later items finish first: item i takes (10 − i) × 3 ms.
    let running = 0;
    let most = 0;
    const taken: number[] = [];
    await inOrderOverWorkers(
      10,
      3,
      async (i) => {
        running++;
        most = Math.max(most, running);
        await delay((10 - i) * 3);
        running--;
        return i * i;
      },
      (r, i) => {
        assert.equal(r, i * i);
        taken.push(i);
      },
    );
    assert.deepEqual(taken, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(most, 3);
  });

  it('stops at a failing item and rethrows its error; later items are not posted', async () => {
    const posted: number[] = [];
    await assert.rejects(
      inOrderOverWorkers(
        8,
        2,
        async (i) => {
          posted.push(i);
          await delay(1);
          if (i === 2) throw new Error('item 2 failed');
          return i;
        },
        () => {},
      ),
      /item 2 failed/,
    );
    assert.ok(Math.max(...posted) <= 3, `posted ${posted.join(',')}`);
  });

  it('does nothing for no items and rethrows a failing take', async () => {
    await inOrderOverWorkers(
      0,
      2,
      () => Promise.reject(new Error('never')),
      () => {},
    );
    await assert.rejects(
      inOrderOverWorkers(
        3,
        2,
        (i) => Promise.resolve(i),
        (r) => {
          if (r === 1) throw new Error('take 1');
        },
      ),
      /take 1/,
    );
  });
});
