// Resume after SIGKILL: the killed sweep keeps the trials it finished (trials.jsonl is appended
// and fsync'd per trial); running the same command again continues in the same directory and
// runs only what unfinished trials still need — finished trials are neither rerun nor rewritten.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrialsJsonl, type TrialRecord } from '../../src/sweep/sweep-record.js';
import { cliPath } from '../helpers/paths.js';
import { counterLines, toyProject } from './helpers.js';

function readTrials(dir: string): TrialRecord[] {
  const f = join(dir, 'trials.jsonl');
  return existsSync(f) ? parseTrialsJsonl(readFileSync(f, 'utf8')) : [];
}

function sweepDirs(dir: string): string[] {
  const s = join(dir, 'sweeps');
  return existsSync(s) ? readdirSync(s).map((d) => join(s, d)) : [];
}

describe('sweep: resume after SIGKILL', function () {
  this.timeout(120_000);

  it('reruns only the unfinished trials', async () => {
    // Slow pruning so the kill lands mid-sweep.
    const { dir, recipe } = toyProject((y) =>
      y.replace(
        /with: \{ method: (\w+), density: 0\.5/g,
        'with: { method: $1, density: 0.5, sleepMs: 300',
      ),
    );
    const child = spawn(process.execPath, [cliPath, 'sweep', recipe, '--quiet'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((res) => child.on('exit', () => res()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const d = sweepDirs(dir)[0];
      if (d !== undefined && readTrials(d).length >= 2) break;
      assert.ok(Date.now() < deadline, `sweep made no progress: ${stderr}`);
      assert.equal(child.exitCode, null, `sweep ended before it could be killed: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await exited;

    const [sweepDir] = sweepDirs(dir);
    assert.ok(sweepDir !== undefined);
    const before = readTrials(sweepDir);
    assert.ok(
      before.length >= 2 && before.length < 6,
      `${before.length} trials finished before the kill`,
    );
    const linesBefore = counterLines(dir).length;

    const again = spawnSync(process.execPath, [cliPath, 'sweep', recipe], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /sweep ok \(resumed\): 6\/6 trials ok/);
    assert.deepEqual(sweepDirs(dir), [sweepDir], 'resumed in the same directory');

    const after = readTrials(sweepDir);
    assert.deepEqual(after.map((t) => t.index).sort(), [0, 1, 2, 3, 4, 5]);
    assert.ok(after.every((t) => t.status === 'ok'));
    // Finished trials were kept as they were, not rerun.
    for (const t of before)
      assert.deepEqual(
        after.find((a) => a.index === t.index),
        t,
      );

    // What ran the second time: exactly the nodes the lock marks 'ran', none of them needed only
    // by trials that had finished.
    const lock = JSON.parse(readFileSync(join(sweepDir, 'lock.json'), 'utf8')) as {
      nodes: Record<string, { status: string; trials: number[] }>;
    };
    const ranNow = Object.entries(lock.nodes).filter(([, n]) => n.status === 'ran');
    const newLines = counterLines(dir).slice(linesBefore);
    assert.equal(newLines.length, ranNow.length, newLines.join('\n'));
    const finished = new Set(before.map((t) => t.index));
    for (const [hash, n] of ranNow) {
      assert.ok(
        n.trials.some((i) => !finished.has(i)),
        `node ${hash.slice(0, 12)} of finished trials ${n.trials.join(',')} ran again`,
      );
    }
    const unfinished = 6 - before.length;
    // Each unfinished trial needs at most its 3 prune and 3 eval nodes (plus a model/dense eval).
    assert.ok(
      newLines.length <= unfinished * 6 + 2,
      `${newLines.length} stage runs for ${unfinished} unfinished trials`,
    );
    assert.ok(newLines.filter((l) => l.startsWith('toy-prune ')).length <= unfinished * 3 + 1);
  });
});
