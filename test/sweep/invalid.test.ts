// Invalid sweeps fail before anything runs: a clear E_SWEEP error pointing at the offending entry
// (file:line:col), and no sweep directory, cache entry or stage execution.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSweep } from '../../src/sweep/sweep-run.js';
import { ScalpelError } from '../../src/errors.js';
import { counterLines, listDir, toyProject, withSweep } from './helpers.js';

/** 1-based line of the first line containing `needle`. */
function lineOf(file: string, needle: string): number {
  const i = readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `'${needle}' not in ${file}`);
  return i + 1;
}

async function expectSweepError(
  section: string,
  check: (e: ScalpelError, recipe: string) => void,
): Promise<void> {
  const { dir, recipe } = toyProject(withSweep(section));
  await assert.rejects(runSweep(recipe, { cwd: dir, quiet: true }), (e: unknown) => {
    assert.ok(e instanceof ScalpelError, String(e));
    assert.equal(e.code, 'E_SWEEP', e.format());
    assert.equal(e.location?.file, recipe);
    check(e, recipe);
    return true;
  });
  assert.deepEqual(listDir(join(dir, 'sweeps')), [], 'no sweep directory');
  assert.deepEqual(listDir(join(dir, '.scalpel')), [], 'no cache');
  assert.deepEqual(counterLines(dir), [], 'no stage ran');
}

describe('invalid sweep specs', () => {
  it('unknown path: names the missing key and suggests the closest', async () => {
    await expectSweepError(
      `
sweep:
  parameters:
    stages.prune-mag.with.densty: [0.1, 0.2]
`,
      (e, recipe) => {
        assert.match(e.message, /stages\.prune-mag\.with\.densty/);
        assert.match(e.message, /has no 'densty'/);
        assert.match(e.hint ?? '', /did you mean 'density'/);
        assert.equal(e.location?.line, lineOf(recipe, 'densty'));
        assert.equal(e.location?.col, 5);
      },
    );
  });

  it('unknown stage in a multi-path parameter points at that path', async () => {
    await expectSweepError(
      `
sweep:
  parameters:
    density:
      paths: [stages.prune-mag.with.density, stages.prune-rnd.with.density]
      values: [0.1]
`,
      (e, recipe) => {
        assert.match(e.message, /stages\.prune-rnd\.with\.density/);
        assert.match(e.hint ?? '', /prune-rand/);
        assert.equal(e.location?.line, lineOf(recipe, 'prune-rnd'));
      },
    );
  });

  it('empty list of values', async () => {
    await expectSweepError(
      `
sweep:
  parameters:
    stages.prune-mag.with.density: []
`,
      (e, recipe) => {
        assert.match(e.message, /empty list of values/);
        assert.equal(e.location?.line, lineOf(recipe, 'density: []'));
      },
    );
  });

  it('min greater than max', async () => {
    await expectSweepError(
      `
sweep:
  method: random
  samples: 3
  parameters:
    stages.prune-mag.with.density:
      min: 0.9
      max: 0.2
`,
      (e, recipe) => {
        assert.match(e.message, /min 0\.9 is greater than max 0\.2/);
        assert.equal(e.location?.line, lineOf(recipe, 'min: 0.9'));
      },
    );
  });

  it('log range through zero, and a grid over a range without steps', async () => {
    await expectSweepError(
      `
sweep:
  method: random
  samples: 3
  parameters:
    stages.prune-mag.with.density: { min: 0, max: 0.5, log: true }
`,
      (e) => assert.match(e.message, /log range needs min > 0/),
    );
    await expectSweepError(
      `
sweep:
  parameters:
    stages.prune-mag.with.density: { min: 0.1, max: 0.5 }
`,
      (e) => {
        assert.match(e.message, /without 'steps'/);
        assert.match(e.hint ?? '', /steps: N/);
      },
    );
  });

  it('a combination the stage schema rejects is reported with its parameters', async () => {
    await expectSweepError(
      `
sweep:
  parameters:
    stages.prune-mag.with.density: [0.5, 1.5]
    stages.prune-mag.with.method: [magnitude]
  repeats: 2
`,
      (e, recipe) => {
        assert.match(
          e.message,
          /trial 2 \(stages\.prune-mag\.with\.density=1\.5, stages\.prune-mag\.with\.method='magnitude', repeat 0, seed 11\) is invalid/,
        );
        assert.match(e.message, /E_RECIPE_SCHEMA/);
        assert.match(e.message, /stages\.prune-mag\.with\.density/);
        assert.equal(e.location?.line, lineOf(recipe, 'density: [0.5, 1.5]'));
      },
    );
  });
});
