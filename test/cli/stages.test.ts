// `scalpel stages` and `--help` through the real CLI.
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { tempDir } from '../helpers/paths.js';
import { runCli, writeRecipe } from './cli-helpers.js';

describe('CLI stages and help', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = tempDir('scalpel-cli-stages-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('describes a plugin stage type with each parameter from its schema', async () => {
    const recipe = writeRecipe(dir, { a: { uses: 'count' } });
    const r = await runCli(['stages', 'count', '--recipe', recipe], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^count — stage type from plugin 'engine-test', version 1/);
    assert.match(r.stdout, /value\s+number\s+0\s+Added to the sum of the inputs\./);
    assert.match(r.stdout, /sleepMs\s+integer ≥ 0\s+0\s+Time to sleep/);
    assert.match(r.stdout, /seed\s+integer\s+-\s+Own seed/);
    assert.match(r.stdout, /output: number · inputs: number \(optional, several\)/);

    const list = await runCli(['stages', '--recipe', recipe, '--json'], dir);
    assert.equal(list.code, 0, list.stderr);
    const entries = JSON.parse(list.stdout) as {
      kind: string;
      name: string;
      origin: string;
      params: { name: string }[];
    }[];
    const count = entries.find((e) => e.name === 'count');
    assert.equal(count?.origin, 'engine-test');
    assert.deepEqual(
      count?.params.map((p) => p.name),
      ['value', 'counter', 'sleepMs', 'seed'],
    );
    assert.ok(
      entries.some((e) => e.origin === 'builtin'),
      'built-ins are listed too',
    );

    const typo = await runCli(['stages', 'cuont', '--recipe', recipe], dir);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /E_UNKNOWN_NAME: .*'cuont'\n\s+hint: did you mean 'count'\?/);
  });

  it('prints --help (program and command) and exits 0', async () => {
    for (const args of [['--help'], ['run', '--help']]) {
      const r = await runCli(args, dir);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /Usage: scalpel/);
    }
  });
});
