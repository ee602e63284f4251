import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Cache, resolveCacheRoot, type EntryInfo } from '../../src/engine/cache.js';
import { hostId } from '../../src/util/host-id.js';
import { buildRoot, tempDir } from '../helpers/paths.js';

const hashOf = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

const info: EntryInfo = {
  kind: 'number',
  stageType: 'count',
  stageVersion: '1',
  manifest: { file: 'value.json' },
  metrics: { value: 3 },
  timings: {
    startedAt: '2024-01-01T00:00:00.000Z',
    finishedAt: '2024-01-01T00:00:01.000Z',
    durationMs: 1000,
  },
};

/** What a user does to edit a cache file: make it writable again, then write. */
function forceWrite(path: string, data: string | Buffer): void {
  chmodSync(path, 0o644);
  writeFileSync(path, data);
}

function fill(cache: Cache, hash: string, content = 'v1'): ReturnType<Cache['begin']> {
  const p = cache.begin(hash);
  writeFileSync(join(p.outDir, 'value.json'), content);
  mkdirSync(join(p.outDir, 'sub'));
  writeFileSync(join(p.outDir, 'sub', 'b.bin'), Buffer.alloc(100, 7));
  return p;
}

describe('cache', () => {
  let root: string;
  let cache: Cache;
  beforeEach(() => {
    root = tempDir('scalpel-cache-');
    cache = new Cache(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('resolves its root from --cache-dir, then SCALPEL_CACHE_DIR, then <cwd>/.scalpel', () => {
    assert.equal(resolveCacheRoot({ cwd: '/w', env: {} }), '/w/.scalpel');
    assert.equal(resolveCacheRoot({ cwd: '/w', env: { SCALPEL_CACHE_DIR: 'c' } }), '/w/c');
    assert.equal(
      resolveCacheRoot({ cwd: '/w', cacheDir: '/x', env: { SCALPEL_CACHE_DIR: 'c' } }),
      '/x',
    );
  });

  it('round-trips an entry with its files and metadata', () => {
    const h = hashOf('a');
    assert.equal(cache.lookup(h), undefined);
    const e = cache.commit(fill(cache, h), info);
    assert.equal(e.dir, join(root, 'cache', h));
    const hit = cache.lookup(h);
    assert.ok(hit);
    assert.equal(hit.meta.kind, 'number');
    assert.deepEqual(hit.meta.metrics, { value: 3 });
    assert.deepEqual(hit.meta.files, [
      { path: 'sub/b.bin', size: 100, sha256: hashOf(Buffer.alloc(100, 7)) },
      { path: 'value.json', size: 2, sha256: hashOf('v1') },
    ]);
    for (const f of ['out/sub/b.bin', 'out/value.json', 'entry.json'])
      assert.equal(statSync(join(e.dir, f)).mode & 0o222, 0, `${f} has no write bits`);
    assert.equal(readFileSync(join(hit.outDir, 'value.json'), 'utf8'), 'v1');
    assert.deepEqual(readdirSync(cache.tmpDir), [], 'the temp dir was moved, not copied');
    assert.deepEqual(cache.list(), [h]);
  });

  it('never treats an entry under construction as a hit', () => {
    const h = hashOf('b');
    const p = fill(cache, h);
    assert.equal(cache.lookup(h), undefined);
    assert.ok(existsSync(p.tmpDir));
    cache.discard(p);
    assert.ok(!existsSync(p.tmpDir));
    assert.equal(cache.lookup(h), undefined);
  });

  it('treats a directory without a valid, consistent entry.json as a miss', () => {
    const h = hashOf('c');
    cache.commit(fill(cache, h), info);
    const entryJson = join(cache.entryDir(h), 'entry.json');
    const good = readFileSync(entryJson, 'utf8');

    rmSync(entryJson);
    assert.equal(cache.lookup(h), undefined, 'no entry.json');
    writeFileSync(entryJson, good.slice(0, good.length / 2));
    assert.equal(cache.lookup(h), undefined, 'truncated entry.json');
    writeFileSync(entryJson, good.replace(h, hashOf('other')));
    assert.equal(cache.lookup(h), undefined, 'entry.json of another hash');
    writeFileSync(entryJson, good.replace('"format": 2', '"format": 1'));
    assert.equal(cache.lookup(h), undefined, 'an entry of the previous format (no sha256)');
    writeFileSync(entryJson, good);
    assert.ok(cache.lookup(h));
    forceWrite(join(cache.entryDir(h), 'out', 'sub', 'b.bin'), Buffer.alloc(50));
    assert.equal(cache.lookup(h), undefined, 'a file with the wrong size');
    rmSync(join(cache.entryDir(h), 'out', 'value.json'));
    assert.equal(cache.lookup(h), undefined, 'a missing file');
    assert.deepEqual(cache.list(), []);
  });

  it('replaces an invalid directory on commit', () => {
    const h = hashOf('d');
    mkdirSync(join(cache.entryDir(h), 'out'), { recursive: true });
    writeFileSync(join(cache.entryDir(h), 'out', 'junk'), 'x');
    chmodSync(join(cache.entryDir(h), 'out', 'junk'), 0o444); // read-only files do not block it
    const e = cache.commit(fill(cache, h), info);
    assert.ok(cache.lookup(h));
    assert.ok(!existsSync(join(e.outDir, 'junk')));
  });

  it('keeps the existing valid entry when a concurrent run commits the same hash, unless overwriting', () => {
    const h = hashOf('e');
    cache.commit(fill(cache, h, 'first'), info);
    const loser = fill(cache, h, 'second');
    const e = cache.commit(loser, info);
    assert.equal(readFileSync(join(e.outDir, 'value.json'), 'utf8'), 'first');
    assert.ok(!existsSync(loser.tmpDir), 'the losing entry is discarded');
    const forced = cache.commit(fill(cache, h, 'third'), info, { overwrite: true });
    assert.equal(readFileSync(join(forced.outDir, 'value.json'), 'utf8'), 'third');
    assert.equal(cache.lookup(h)?.meta.files.find((f) => f.path === 'value.json')?.size, 5);
    assert.deepEqual(readdirSync(cache.tmpDir), [], 'nothing left behind in tmp');
  });

  it('verify finds a file edited in place even with its size and mtime unchanged', async () => {
    const h = hashOf('v');
    const e = cache.commit(fill(cache, h), info);
    assert.equal(await cache.verify(e), undefined, 'intact');
    const file = join(e.outDir, 'sub', 'b.bin');
    const { atime, mtime } = statSync(file);
    const edited = Buffer.alloc(100, 7);
    edited[99] = 8; // one byte: same size
    forceWrite(file, edited);
    utimesSync(file, atime, mtime);
    const hit = cache.lookup(h);
    assert.ok(hit, 'the cheap lookup (size only) cannot see it');
    assert.match((await cache.verify(hit)) ?? '', /sub\/b\.bin was modified/);
    assert.match((await cache.problem(h, { content: true })) ?? '', /sub\/b\.bin was modified/);
    assert.equal(await cache.problem(h), undefined, 'the cheap check passes');
    forceWrite(file, Buffer.alloc(10));
    assert.match((await cache.problem(h)) ?? '', /sub\/b\.bin changed size \(100 → 10 bytes\)/);
    assert.equal(await cache.problem(hashOf('absent')), undefined, 'no entry: no problem');
  });

  it('removes temp dirs of dead processes only', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const deadPid = Number(dead.stdout);
    const h = hashOf('f');
    mkdirSync(cache.tmpDir, { recursive: true });
    // Leases as processes of this host write them (cache-lease.ts); a dead owner's is stale.
    const lease = (dir: string, pid: number): void =>
      writeFileSync(
        `${dir}.lease`,
        JSON.stringify({ host: hostId(), pid, createdAt: new Date().toISOString() }),
      );
    const deadDir = join(cache.tmpDir, `${h}-${deadPid}-abcdef`);
    const deadOld = join(cache.tmpDir, `${h}-${deadPid}-abcdef12-old`);
    mkdirSync(join(deadDir, 'out'), { recursive: true });
    lease(deadDir, deadPid);
    mkdirSync(deadOld); // no lease: never work in progress
    const mine = fill(cache, h);
    const parentDir = join(cache.tmpDir, `${h}-${process.ppid}-0123`); // a live process
    mkdirSync(parentDir);
    lease(parentDir, process.ppid);
    assert.equal(cache.cleanStale(), 2);
    assert.ok(!existsSync(deadDir) && !existsSync(deadOld) && !existsSync(`${deadDir}.lease`));
    assert.ok(existsSync(mine.tmpDir) && existsSync(parentDir));
  });

  it('stays consistent when several processes commit the same hashes at once', async function () {
    this.timeout(30000);
    const hashes = ['p', 'q', 'r'].map(hashOf);
    const cacheModule = pathToFileURL(join(buildRoot, 'src', 'engine', 'cache.js')).href;
    // Each worker writes content that identifies it, in several files, and commits; half of the
    // commits overwrite. Any mixing of two writers inside one entry would show up below.
    const script = `
      import { Cache } from ${JSON.stringify(cacheModule)};
      import { writeFileSync } from 'node:fs';
      import { join } from 'node:path';
      const cache = new Cache(${JSON.stringify(root)});
      const info = ${JSON.stringify(info)};
      for (let i = 0; i < 15; i++) {
        for (const h of ${JSON.stringify(hashes)}) {
          const p = cache.begin(h);
          const tag = process.pid + '-' + i;
          for (let f = 0; f < 5; f++) writeFileSync(join(p.outDir, 'f' + f), tag.repeat(f + 1));
          cache.commit(p, { ...info, manifest: { tag } }, { overwrite: i % 2 === 0 });
        }
      }`;
    const runs = [0, 1, 2, 3].map(
      () =>
        new Promise<number | null>((res) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
            stdio: ['ignore', 'inherit', 'inherit'],
          });
          child.on('exit', (code) => res(code));
        }),
    );
    assert.deepEqual(await Promise.all(runs), [0, 0, 0, 0]);
    for (const h of hashes) {
      const e = cache.lookup(h);
      assert.ok(e, 'a valid entry exists');
      const tag = String(e.meta.manifest['tag']);
      for (let f = 0; f < 5; f++) {
        assert.equal(
          readFileSync(join(e.outDir, `f${f}`), 'utf8'),
          tag.repeat(f + 1),
          'files from one writer only',
        );
      }
    }
    assert.deepEqual(readdirSync(cache.tmpDir), [], 'no temp dirs left');
    assert.deepEqual(readdirSync(cache.entriesDir).sort(), [...hashes].sort());
  });
});
