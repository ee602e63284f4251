// The `external` solver with real child processes (test/fixtures/solvers/*.mjs).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Rng } from '../../src/util/rng.js';
import { external } from '../../src/solvers/external/index.js';
import { fromUbqp, toUbqp } from '../../src/solvers/external/ubqp.js';
import { parseSolution } from '../../src/solvers/external/parse-solution.js';
import { ScalpelError } from '../../src/errors.js';
import { fixturesDir } from '../helpers/paths.js';
import { naiveEnergy, naiveOptimum, ones, randomQ, randomState } from './helpers.js';

const node = JSON.stringify(process.execPath);
const brute = JSON.stringify(join(fixturesDir, 'solvers', 'brute-ubqp.mjs'));
const misbehave = JSON.stringify(join(fixturesDir, 'solvers', 'misbehave.mjs'));

function tempUbqpFiles(): string[] {
  return readdirSync(tmpdir()).filter((f) => f.startsWith('scalpel-qubo-'));
}

describe('external solver', function () {
  this.timeout(20000);
  const rng = new Rng(41);
  const n = 9;
  const k = 4;
  const Q = randomQ(n, rng, true);
  const opt = naiveOptimum(Q, n, k);

  it('UBQP: header n m, 1-based upper triangle, Σ c_ij x_i x_j = xᵀQx', () => {
    const text = toUbqp(Q, n);
    const lines = text.trim().split('\n');
    const [hn, hm] = (lines[0] ?? '').split(' ').map(Number);
    assert.equal(hn, n);
    assert.equal(hm, lines.length - 1);
    for (const l of lines.slice(1)) {
      const [i, j] = l.split(' ').map(Number);
      assert.ok((i as number) >= 1 && (i as number) <= (j as number) && (j as number) <= n);
    }
    const back = fromUbqp(text);
    for (let t = 0; t < 20; t++) {
      const x = randomState(n, rng.int(n + 1), rng);
      const fileEnergy = lines.slice(1).reduce((s, l) => {
        const [i, j, c] = l.split(' ').map(Number);
        return (
          s + (c as number) * (x[(i as number) - 1] as number) * (x[(j as number) - 1] as number)
        );
      }, 0);
      assert.ok(Math.abs(fileEnergy - naiveEnergy(Q, n, x)) < 1e-9);
      assert.ok(Math.abs(naiveEnergy(back.Q, n, x) - naiveEnergy(Q, n, x)) < 1e-9);
    }
    assert.equal(toUbqp(new Float32Array(4), 2), '2 0\n');
  });

  for (const form of ['spaces', 'commas', 'string', 'brackets', 'indices']) {
    it(`accepts the answer of a real solver printed as ${form}, recomputes the energy, removes the temp file`, async () => {
      const before = tempUbqpFiles().length;
      const r = await external.solve(
        { n, k, Q },
        { command: `${node} ${brute} {file} {k} ${form}`, timeoutSeconds: 20 },
        { seed: 5 },
      );
      assert.deepEqual(Array.from(r.x), Array.from(opt.x));
      assert.equal(ones(r.x), k);
      assert.ok(Math.abs(r.energy - opt.energy) < 1e-9);
      assert.equal(tempUbqpFiles().length, before);
    });
  }

  it('passes {n} {k} {seed} and runs in cwd', async () => {
    const dir = join(fixturesDir, 'solvers');
    const r = await external.solve(
      { n, k, Q },
      {
        command: `${node} -e "const [n,k,s]=process.argv.slice(1).map(Number); if (s !== 77 || !require('fs').existsSync('brute-ubqp.mjs')) process.exit(3); console.log(Array.from({length:n},(_,i)=>i<k?1:0).join(''))" {n} {k} {seed}`,
        cwd: dir,
      },
      { seed: 77 },
    );
    assert.deepEqual(Array.from(r.x), [1, 1, 1, 1, 0, 0, 0, 0, 0]);
  });

  const failures: [string, RegExp][] = [
    ['wrong-k', /5 ones, expected exactly k = 4/],
    ['garbage', /neither 9 values 0\/1 nor a list of 1-based indices/],
    ['non-binary', /value 2 is not 0 or 1/],
    ['short', /the 0\/1 vector has 8 values, expected n = 9/],
    ['exit1', /exited with code 1.*out of qubits/s],
  ];
  for (const [mode, re] of failures) {
    it(`rejects a solver that misbehaves (${mode}) with a clear E_STAGE error naming the command`, async () => {
      const command = `${node} ${misbehave} ${mode} {n} {k}`;
      await assert.rejects(
        external.solve({ n, k, Q }, { command, timeoutSeconds: 20 }, { seed: 1 }),
        (e: unknown) => {
          assert.ok(e instanceof ScalpelError);
          assert.equal(e.code, 'E_STAGE');
          assert.match(e.message, re);
          assert.ok(e.message.includes(command), 'message names the command');
          assert.ok(e.hint !== undefined);
          return true;
        },
      );
    });
  }

  it('kills a solver that hangs past timeoutSeconds (and everything it started)', async () => {
    const started = Date.now();
    await assert.rejects(
      external.solve(
        { n, k, Q },
        { command: `${node} ${misbehave} hang {n} {k}`, timeoutSeconds: 0.5 },
        { seed: 1 },
      ),
      (e: unknown) =>
        e instanceof ScalpelError &&
        e.code === 'E_STAGE' &&
        /did not finish within timeoutSeconds = 0.5/.test(e.message),
    );
    assert.ok(Date.now() - started < 5000);
  });

  it('a command that does not exist is a clear error; a missing command parameter too', async () => {
    await assert.rejects(
      external.solve({ n, k, Q }, { command: 'scalpel-no-such-solver-xyz {file}' }, { seed: 1 }),
      /exited with code 127/,
    );
    await assert.rejects(
      external.solve({ n, k, Q }, {}, { seed: 1 }),
      (e: unknown) => e instanceof ScalpelError && e.code === 'E_RECIPE_SCHEMA',
    );
  });

  it('parseSolution: accepted forms and their precedence', () => {
    assert.deepEqual(Array.from(parseSolution('log line\n# comment\n0 1 1\n\n', 3, 2)), [0, 1, 1]);
    assert.deepEqual(Array.from(parseSolution('2 3', 3, 2)), [0, 1, 1]);
    assert.deepEqual(Array.from(parseSolution('[2, 3]', 3, 2)), [0, 1, 1]);
    assert.deepEqual(Array.from(parseSolution('011', 3, 2)), [0, 1, 1]);
    assert.deepEqual(Array.from(parseSolution('1', 1, 1)), [1]);
    assert.deepEqual(Array.from(parseSolution('1 2 3', 3, 3)), [1, 1, 1]);
    assert.throws(() => parseSolution('1 1 3', 4, 3), /index 1 appears twice/);
    assert.throws(() => parseSolution('1 2 3', 3, 2), /has 3 values but value 2 is not 0 or 1/);
    assert.throws(() => parseSolution('0110', 3, 2), /0\/1 string has 4 characters/);
    assert.throws(() => parseSolution('2 9', 3, 2), /index 9 is outside 1\.\.3/);
    assert.throws(() => parseSolution('2', 3, 2), /lists 1 indices, expected exactly k = 2/);
    assert.throws(() => parseSolution('', 3, 2), /no solution line/);
  });

  it('leaves no temp directory behind after failures', () => {
    assert.ok(!tempUbqpFiles().some((d) => existsSync(join(tmpdir(), d, 'block.ubqp'))));
  });
});
