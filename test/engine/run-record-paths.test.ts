// A run record's recipe.resolved.yaml runs from where it lies (same node hashes, so the same
// cache serves it; an empty cache recomputes the same bytes), also after the whole project moved,
// and lock.json does not depend on where the checkout lies.
import { strict as assert } from 'node:assert';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import YAML from 'yaml';
import { runRecipe, type RunSummary } from '../../src/engine/run.js';
import { Terminal } from '../../src/engine/terminal.js';
import { tempDir } from '../helpers/paths.js';
import { counter, enginePlugin } from '../cli/cli-helpers.js';

const quietTerminal = (): Terminal =>
  new Terminal(
    new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream,
    false,
  );

/**
 * A project with every path relative: recipes/r.yaml loads a plugin from ../plugin, a csv from
 * data/, and its plugin stages append to ../counter.txt.
 */
function makeProject(root: string): string {
  mkdirSync(join(root, 'recipes', 'data'), { recursive: true });
  mkdirSync(join(root, 'plugin'));
  copyFileSync(enginePlugin, join(root, 'plugin', 'engine.js'));
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(root, 'recipes', 'data', 'train.csv'), 'label,a,b\n0,1,2\n1,3,4\n0,5,6\n');
  const recipe = {
    version: 1,
    name: 'paths',
    seed: 3,
    backend: 'cpu',
    plugins: ['../plugin/engine.js'],
    stages: {
      data: {
        uses: 'load-dataset',
        with: { source: 'csv', path: 'data/train.csv', pixels: false },
      },
      a: { uses: 'count', with: { value: 2, counter: '../counter.txt' } },
      b: { uses: 'count', needs: ['a'], with: { value: 5, counter: '../counter.txt' } },
    },
  };
  const file = join(root, 'recipes', 'r.yaml');
  writeFileSync(file, YAML.stringify(recipe));
  return file;
}

const hashes = (s: RunSummary): Record<string, string> =>
  Object.fromEntries(s.nodes.map((n) => [n.id, n.hash]));
const statuses = (s: RunSummary): string[] => s.nodes.map((n) => `${n.id}:${n.status}`);

/** Every file under `dir` (relative path → bytes as hex), for comparing artifacts. */
function tree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) Object.assign(out, tree(join(dir, e.name), rel));
    else out[rel] = readFileSync(join(dir, e.name)).toString('hex');
  }
  return out;
}

describe('run record: paths', function () {
  this.timeout(60000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('recipe.resolved.yaml runs from the record: same hashes, cache hits, same bytes', async () => {
    const root = tempDir('scalpel-paths-');
    dirs.push(root);
    const project = join(root, 'p1');
    const file = makeProject(project);
    const terminal = quietTerminal();
    const first = await runRecipe(file, { cwd: project, terminal });
    assert.equal(first.status, 'ok');
    assert.deepEqual(counter(project), ['a', 'b']);

    const resolvedFile = join(first.dir, 'recipe.resolved.yaml');
    const text = readFileSync(resolvedFile, 'utf8');
    const doc = YAML.parse(text) as { baseDir: string; plugins: string[] };
    assert.equal(doc.baseDir, '../../recipes', 'runs/<r>/ → recipes/');
    assert.deepEqual(doc.plugins, ['../plugin/engine.js'], 'spelled as written');
    assert.ok(!text.includes(root), 'no absolute path of the checkout');

    const again = await runRecipe(resolvedFile, { cwd: project, terminal });
    assert.equal(again.status, 'ok');
    assert.deepEqual(hashes(again), hashes(first));
    assert.deepEqual(statuses(again), ['data:cached', 'a:cached', 'b:cached']);
    assert.deepEqual(counter(project), ['a', 'b'], 'nothing ran again');

    // The whole project moved: the record still runs, with the same hashes and its cache.
    const moved = join(root, 'elsewhere', 'p1');
    mkdirSync(join(root, 'elsewhere'));
    renameSync(project, moved);
    const movedRecord = join(moved, 'runs', readdirSync(join(moved, 'runs')).sort()[0] ?? '');
    const fromMoved = await runRecipe(join(movedRecord, 'recipe.resolved.yaml'), {
      cwd: moved,
      terminal,
    });
    assert.deepEqual(hashes(fromMoved), hashes(first));
    assert.deepEqual(statuses(fromMoved), ['data:cached', 'a:cached', 'b:cached']);

    // With an empty cache the record's recipe recomputes everything, byte for byte.
    const fresh = await runRecipe(join(movedRecord, 'recipe.resolved.yaml'), {
      cwd: moved,
      cacheDir: join(root, 'empty-cache'),
      terminal,
    });
    assert.deepEqual(statuses(fresh), ['data:ran', 'a:ran', 'b:ran']);
    assert.deepEqual(counter(moved), ['a', 'b', 'a', 'b'], 'the plugin path resolved as before');
    for (const id of ['data', 'a', 'b'])
      assert.deepEqual(
        tree(join(fresh.dir, 'artifacts', id)),
        tree(join(movedRecord, 'artifacts', id)),
        `artifacts/${id}`,
      );
    // b = its value + a's: 5 + 2.
    const b = JSON.parse(readFileSync(join(fresh.dir, 'artifacts', 'b', 'value.json'), 'utf8'));
    assert.deepEqual(b, { value: 7 });
  });

  it('lock.json is the same for two copies of a project at different paths', async () => {
    const root = tempDir('scalpel-lock-');
    dirs.push(root);
    const p1 = join(root, 'one');
    makeProject(p1);
    const p2 = join(root, 'two', 'deeper');
    cpSync(p1, p2, { recursive: true });
    const terminal = quietTerminal();
    const locks: string[] = [];
    for (const p of [p1, p2]) {
      const s = await runRecipe(join(p, 'recipes', 'r.yaml'), { cwd: p, terminal });
      assert.equal(s.status, 'ok');
      locks.push(readFileSync(join(s.dir, 'lock.json'), 'utf8'));
    }
    const [l1, l2] = locks;
    assert.ok(l1 !== undefined && !l1.includes(root), 'no absolute path in lock.json');
    assert.equal(l1, l2);
    const lock = JSON.parse(l1) as { recipe: { file: string } };
    assert.equal(lock.recipe.file, '../../recipes/r.yaml');
  });
});
