// `scalpel run` / `scalpel plan` through the real CLI: caching, partial reruns, failure isolation
// and the run record.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { Cache } from '../../src/engine/cache.js';
import { deserializeError, type SerializedError } from '../../src/errors.js';
import { createHash } from 'node:crypto';
import { repoRoot, tempDir } from '../helpers/paths.js';
import {
  counter,
  planCached,
  readJson,
  runCli,
  runDirOf,
  writeRecipe,
  type StageSpec,
} from './cli-helpers.js';

// a ─▶ b ─▶ c        d (independent)
const chain: Record<string, StageSpec> = {
  a: { uses: 'count', with: { value: 1 } },
  b: { uses: 'count', needs: ['a'], with: { value: 2 } },
  c: { uses: 'count', needs: ['b'], with: { value: 10 } },
  d: { uses: 'count', with: { value: 100 } },
};

const valueOf = (runDir: string, id: string): number =>
  readJson<{ value: number }>(join(runDir, 'artifacts', id, 'value.json')).value;

/** The run record: every file present and parseable, hashes as planned, artifacts linked. */
function checkRecord(runDir: string, hashes: Record<string, string>, cwd: string): void {
  const lock = readJson<{
    scalpel: string;
    node: string;
    seed: number;
    backend: { name: string; versions: Record<string, string> };
    dependencies: Record<string, string>;
    recipe: { file: string; sha256: string };
    nodes: Record<
      string,
      { uses: string; version: string; hash: string; status: string; durationMs: number }
    >;
  }>(join(runDir, 'lock.json'));
  const pkg = readJson<{ version: string; dependencies: Record<string, string> }>(
    join(repoRoot, 'package.json'),
  );
  assert.equal(lock.scalpel, pkg.version);
  assert.equal(lock.node, process.version);
  assert.equal(lock.seed, 7);
  assert.equal(lock.backend.name, 'cpu');
  assert.equal(
    lock.backend.versions['tfjs-core'],
    readJson<{ version: string }>(join(repoRoot, 'node_modules/@tensorflow/tfjs-core/package.json'))
      .version,
  );
  for (const dep of Object.keys(pkg.dependencies))
    assert.match(lock.dependencies[dep] ?? '', /^\d+\.\d+/, dep);
  assert.equal(
    lock.recipe.sha256,
    createHash('sha256')
      .update(readFileSync(join(runDir, lock.recipe.file)))
      .digest('hex'),
  );
  for (const [id, hash] of Object.entries(hashes)) {
    assert.equal(lock.nodes[id]?.hash, hash, `lock hash of ${id}`);
    assert.equal(lock.nodes[id]?.uses, 'count');
    assert.equal(lock.nodes[id]?.version, '1');
  }
  assert.deepEqual(readJson(join(runDir, 'metrics.json')), {
    a: { value: 1 },
    b: { value: 3 },
    c: { value: 13 },
    d: { value: 100 },
  });
  const resolved = YAML.parse(readFileSync(join(runDir, 'recipe.resolved.yaml'), 'utf8')) as {
    seed: number;
    stages: Record<string, { with: Record<string, unknown> }>;
  };
  assert.equal(resolved.seed, 7);
  assert.deepEqual(
    resolved.stages['a']?.with,
    { value: 1, counter: 'counter.txt', sleepMs: 0 },
    'defaults filled in',
  );
  const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(
    events.every((e) => typeof e['timestamp'] === 'string' && typeof e['level'] === 'string'),
  );
  const counted = events.filter((e) => e['record'] === 'event' && e['message'] === 'counted');
  assert.deepEqual(counted.map((e) => e['stageId']).sort(), ['a', 'b', 'c', 'd']);
  assert.ok(
    events.some(
      (e) => e['stageId'] === 'a' && e['message'] === 'counted' && e['record'] === undefined,
    ),
    'ctx.log lines',
  );
  const summary = readJson<{
    status: string;
    durationMs: number;
    nodes: { id: string; status: string }[];
  }>(join(runDir, 'summary.json'));
  assert.equal(summary.status, 'ok');
  assert.deepEqual(
    summary.nodes.map((n) => [n.id, n.status]),
    [
      ['a', 'ran'],
      ['b', 'ran'],
      ['c', 'ran'],
      ['d', 'ran'],
    ],
  );
  // artifacts/<id>/ are hard links to the cache entry's files.
  const artifact = statSync(join(runDir, 'artifacts', 'c', 'value.json'));
  const cached = statSync(join(cwd, '.scalpel', 'cache', hashes['c'] ?? '', 'out', 'value.json'));
  assert.equal(artifact.ino, cached.ino);
  assert.deepEqual(
    readdirSync(runDir).filter((f) => f.includes('.tmp')),
    [],
    'no temp files in the record',
  );
}

describe('CLI run: caching', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = tempDir('scalpel-cli-run-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every stage once, then reuses the cache on the second run', async () => {
    const recipe = writeRecipe(dir, chain);
    const first = await runCli(['run', recipe], dir);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(counter(dir).sort(), ['a', 'b', 'c', 'd']);
    const run1 = runDirOf(first, dir);
    assert.equal(valueOf(run1, 'c'), 13);

    const plan = await planCached([recipe], dir);
    assert.deepEqual(plan.cached, { a: true, b: true, c: true, d: true });
    checkRecord(run1, plan.hashes, dir);

    const second = await runCli(['run', recipe], dir);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(counter(dir).sort(), ['a', 'b', 'c', 'd'], 'no stage ran again');
    assert.match(second.stdout, /4 cached/);
    const run2 = runDirOf(second, dir);
    assert.notEqual(run2, run1);
    assert.equal(valueOf(run2, 'c'), 13, 'artifacts of cached stages are in the new record');
    const summary = readJson<{ nodes: { id: string; status: string }[] }>(
      join(run2, 'summary.json'),
    );
    assert.deepEqual(
      summary.nodes.map((n) => n.status),
      ['cached', 'cached', 'cached', 'cached'],
    );
  });

  it('a --set change reruns exactly the stages downstream of it', async () => {
    const recipe = join(dir, 'recipe.yaml');
    const before = counter(dir).length;
    const plan = await planCached([recipe, '--set', 'stages.b.with.value=5'], dir);
    assert.deepEqual(plan.cached, { a: true, b: false, c: false, d: true });
    const r = await runCli(['run', recipe, '--set', 'stages.b.with.value=5'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(counter(dir).slice(before), ['b', 'c']);
    assert.equal(valueOf(runDirOf(r, dir), 'c'), 16); // 10 + (5 + 1)
    const resolved = YAML.parse(
      readFileSync(join(runDirOf(r, dir), 'recipe.resolved.yaml'), 'utf8'),
    ) as {
      stages: Record<string, { with: Record<string, unknown> }>;
    };
    assert.equal(resolved.stages['b']?.with['value'], 5, 'the override is in the recorded recipe');
  });

  it('another recipe with the same stages under other ids shares the cache', async () => {
    const other = writeRecipe(
      dir,
      {
        first: { uses: 'count', with: { value: 1 } },
        second: { uses: 'count', needs: ['first'], with: { value: 2 } },
        extra: { uses: 'count', needs: ['second'], with: { value: 7 } },
      },
      { name: 'other', file: 'other.yaml' },
    );
    const mine = await planCached([join(dir, 'recipe.yaml')], dir);
    const theirs = await planCached([other], dir);
    assert.equal(theirs.hashes['first'], mine.hashes['a']);
    assert.equal(theirs.hashes['second'], mine.hashes['b']);
    assert.deepEqual(theirs.cached, { first: true, second: true, extra: false });
  });

  it('--no-cache and --force recompute every stage', async () => {
    const recipe = join(dir, 'recipe.yaml');
    for (const flag of ['--no-cache', '--force']) {
      const before = counter(dir).length;
      const r = await runCli(['run', recipe, flag, '--quiet'], dir);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(counter(dir).slice(before).sort(), ['a', 'b', 'c', 'd'], flag);
      assert.equal(r.stderr, '', '--quiet prints nothing but warnings and errors');
    }
    const cache = new Cache(join(dir, '.scalpel'));
    assert.deepEqual(readdirSync(cache.tmpDir), [], 'no temp entries left');
  });
});

describe('CLI run: failures', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = tempDir('scalpel-cli-fail-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('skips the dependents of a failed stage, finishes independent ones, exits 1 and names the failure', async () => {
    const recipe = writeRecipe(dir, {
      a: { uses: 'count', with: { value: 1 } },
      bad: { uses: 'fail', needs: ['a'], with: { message: 'the disk is made of cheese' } },
      after: { uses: 'count', needs: ['bad'] },
      later: { uses: 'count', needs: ['after'] },
      side: { uses: 'sleep-and-write', needs: ['a'], with: { ms: 300 } },
    });
    const r = await runCli(['run', recipe, '--jobs', '2'], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(counter(dir).sort(), ['a', 'bad', 'side']);
    assert.match(r.stdout, /bad\s+fail\s+failed.*E_STAGE.*the disk is made of cheese/);
    assert.match(r.stdout, /after\s+count\s+skipped\s+because 'bad' failed/);
    assert.match(r.stdout, /later\s+count\s+skipped\s+because 'bad' failed/);
    assert.match(r.stdout, /side\s+sleep-and-write\s+ran/);
    assert.match(r.stdout, /plugin 'engine-test'/);
    assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m, 'no stack trace without --debug');

    const runDir = runDirOf(r, dir);
    const summary = readJson<{
      status: string;
      nodes: {
        id: string;
        status: string;
        error?: SerializedError;
        skippedBecause?: string;
      }[];
    }>(join(runDir, 'summary.json'));
    assert.equal(summary.status, 'failed');
    const byId = Object.fromEntries(summary.nodes.map((n) => [n.id, n]));
    assert.equal(byId['bad']?.status, 'failed');
    assert.equal(byId['bad']?.error?.code, 'E_STAGE');
    assert.match(byId['bad']?.error?.message ?? '', /cheese/);
    // the reader's rebuilt error says what the CLI printed: stage, plugin, exit code
    const bad = deserializeError(byId['bad']?.error ?? { code: '', message: 'no error' });
    assert.equal(bad.stageId, 'bad');
    assert.equal(bad.plugin, 'engine-test');
    assert.equal(bad.exitCode, 1);
    assert.ok(r.stdout.includes(bad.format()), bad.format());
    assert.equal(byId['after']?.skippedBecause, 'bad');
    assert.equal(byId['later']?.skippedBecause, 'bad');
    assert.equal(byId['side']?.status, 'ran');
    assert.ok(!existsSync(join(runDir, 'artifacts', 'bad')));

    const lock = readJson<{ nodes: Record<string, { status: string; hash: string }> }>(
      join(runDir, 'lock.json'),
    );
    assert.equal(lock.nodes['bad']?.status, 'failed');
    const cache = new Cache(join(dir, '.scalpel'));
    assert.equal(
      cache.lookup(lock.nodes['bad']?.hash ?? ''),
      undefined,
      'no cache entry for the failed stage',
    );
    assert.deepEqual(readdirSync(cache.tmpDir), [], 'its temp dir was removed');

    const debug = await runCli(['run', recipe, '--debug'], dir);
    assert.equal(debug.code, 1);
    assert.match(debug.stdout, /^\s+at /m, '--debug prints the stack');
  });

  it('exits 2 for invalid flags and for a non-empty --out', async () => {
    const recipe = writeRecipe(dir, { a: { uses: 'count' } }, { file: 'small.yaml' });
    const badJobs = await runCli(['run', recipe, '--jobs', 'zero'], dir);
    assert.equal(badJobs.code, 2);
    assert.match(badJobs.stderr, /--jobs/);
    const unknown = await runCli(['run', recipe, '--frobnicate'], dir);
    assert.equal(unknown.code, 2);
    const outDir = join(dir, 'taken');
    const ok = await runCli(['run', recipe, '--out', outDir, '--quiet'], dir);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(statSync(join(outDir, 'summary.json')).isFile());
    const again = await runCli(['run', recipe, '--out', outDir], dir);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /E_IO: .*not empty/);
  });
});
