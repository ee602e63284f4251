// `scalpel validate` on a recipe with a `sweep:` section checks the sweep and every trial too.
import { strict as assert } from 'node:assert';
import { runCli } from './cli-helpers.js';
import { toyProject, withSweep } from '../sweep/helpers.js';

describe('scalpel validate with a sweep section', () => {
  it('reports the number of valid trials', async () => {
    const { dir, recipe } = toyProject();
    const r = await runCli(['validate', recipe], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /sweep valid — \d+ trials?/);
  });

  it('rejects a trial the stage schema rejects, exit 2, located, no stack', async () => {
    const { dir, recipe } = toyProject(
      withSweep(`
sweep:
  parameters:
    stages.prune-mag.with.density: [0.1, 1.5]
`),
    );
    const r = await runCli(['validate', recipe], dir);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /E_SWEEP: trial \d+ \(stages\.prune-mag\.with\.density=1\.5/);
    assert.match(r.stderr, /toy-sweep\.yaml:\d+:\d+/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('plan says it ignores the sweep: section (stderr), and --json stays parseable', async () => {
    const { dir, recipe } = toyProject();
    const r = await runCli(['plan', recipe, '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /warning: the recipe has a sweep: section; plan shows it once as written/,
    );
    const plan = JSON.parse(r.stdout) as { nodes: unknown[] };
    assert.equal(plan.nodes.length, 8, 'the eight stages of the recipe, once');
  });
});
