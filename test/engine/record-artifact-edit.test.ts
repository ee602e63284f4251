// Run records hard-link the cache's files: those files are read-only, and a hit is re-hashed, so
// editing a record's artifact (after making it writable) never reaches the next run, and a cache
// entry damaged in place is rebuilt with a warning.
import { strict as assert } from 'node:assert';
import { chmodSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runRecipe } from '../../src/engine/run.js';
import { Terminal } from '../../src/engine/terminal.js';
import { tempDir } from '../helpers/paths.js';
import { counter, writeRecipe, type StageSpec } from '../cli/cli-helpers.js';

const quietTerminal = (): Terminal =>
  new Terminal(
    new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream,
    false,
  );

// a (value 4) ─▶ b (value 10 + a's)
const stages: Record<string, StageSpec> = {
  a: { uses: 'count', with: { value: 4 } },
  b: { uses: 'count', needs: ['a'], with: { value: 10 } },
};

const valueIn = (runDir: string, id: string): unknown =>
  JSON.parse(readFileSync(join(runDir, 'artifacts', id, 'value.json'), 'utf8'));

/** The warn lines of a run's events.jsonl. */
function warnings(runDir: string): string[] {
  return readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { level?: string; message?: string })
    .filter((e) => e.level === 'warn')
    .map((e) => e.message ?? '');
}

describe('run record: editing an artifact', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => {
    dir = tempDir('scalpel-edit-');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('does not change what the next run gets', async () => {
    const recipe = writeRecipe(dir, stages);
    const terminal = quietTerminal();
    const first = await runRecipe(recipe, { cwd: dir, terminal });
    const file = join(first.dir, 'artifacts', 'a', 'value.json');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { value: 4 });
    assert.equal(statSync(file).mode & 0o222, 0, 'the record’s file is read-only');

    // A user makes it writable and edits it (other length than the original).
    chmodSync(file, 0o644);
    writeFileSync(file, JSON.stringify({ value: 4000 }));

    const second = await runRecipe(recipe, { cwd: dir, terminal });
    assert.equal(second.status, 'ok');
    assert.deepEqual(valueIn(second.dir, 'a'), { value: 4 }, 'a rebuilt from its parameters');
    assert.deepEqual(valueIn(second.dir, 'b'), { value: 14 }, 'b from the intact a: 10 + 4');
    assert.deepEqual(
      counter(dir),
      ['a', 'b', 'a'],
      'a ran again; b (same hash) came from the cache',
    );
    assert.ok(
      warnings(second.dir).some((w) =>
        /cache entry \w+ is damaged: value\.json changed size/.test(w),
      ),
      warnings(second.dir).join('\n'),
    );
  });

  it('detects a cache file changed in place (same size, same mtime) and rebuilds it', async () => {
    const recipe = writeRecipe(dir, stages);
    const terminal = quietTerminal();
    const first = await runRecipe(recipe, { cwd: dir, terminal });
    const hashA = first.nodes.find((n) => n.id === 'a')?.hash ?? '';
    const cached = join(dir, '.scalpel', 'cache', hashA, 'out', 'value.json');
    const { atime, mtime } = statSync(cached);
    chmodSync(cached, 0o644);
    const original = readFileSync(cached, 'utf8');
    assert.match(original, /^\{"value":4\}\s*$/);
    writeFileSync(cached, original.replace('4', '9')); // same size, other content
    utimesSync(cached, atime, mtime);

    const second = await runRecipe(recipe, { cwd: dir, terminal });
    assert.deepEqual(
      second.nodes.map((n) => `${n.id}:${n.status}`),
      ['a:ran', 'b:cached'],
    );
    assert.deepEqual(valueIn(second.dir, 'a'), { value: 4 });
    assert.ok(
      warnings(second.dir).some((w) =>
        /cache entry \w+ is damaged: value\.json was modified/.test(w),
      ),
    );
    // The rebuilt entry is intact and read-only again: a third run takes it from the cache.
    assert.equal(statSync(cached).mode & 0o222, 0);
    const third = await runRecipe(recipe, { cwd: dir, terminal });
    assert.deepEqual(
      third.nodes.map((n) => `${n.id}:${n.status}`),
      ['a:cached', 'b:cached'],
    );
    assert.deepEqual(warnings(third.dir), []);
  });
});
