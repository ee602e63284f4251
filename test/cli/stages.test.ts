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

  it('stages external documents the file it writes and the answers it reads', async () => {
    const r = await runCli(['stages', 'external'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^About:$/m);
    // the file format, as test/solvers/external.test.ts checks toUbqp writes it
    assert.match(r.stdout, /^ {4}n m {8}first line: n variables, m coefficient lines follow$/m);
    assert.match(r.stdout, /1-based indices, i ≤ j/);
    assert.match(r.stdout, /c_ii = Q_ii and c_ij = Q_ij \+ Q_ji, so Σ_\{i≤j\} c_ij x_i x_j = xᵀQx/);
    // the three answer forms parseSolution accepts, and which line is read
    assert.match(r.stdout, /LAST stdout line that is not empty and does not start with '#'/);
    assert.match(r.stdout, /^ {4}1 0 0 1 {4}n values 0\/1/m);
    assert.match(r.stdout, /^ {4}1001 {7}one string of n characters 0\/1$/m);
    assert.match(r.stdout, /^ {4}1 4 {8}the 1-based indices of the k ones$/m);
    assert.match(r.stdout, /^ {4}solver: \{ uses: external, command: /m);
  });

  it('prints --help (program and command) and exits 0', async () => {
    for (const args of [['--help'], ['run', '--help']]) {
      const r = await runCli(args, dir);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /Usage: scalpel/);
    }
  });
});
