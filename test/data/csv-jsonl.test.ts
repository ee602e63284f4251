// csv and jsonl sources on files written here: malformed records counted per reason with the
// first position, strict mode naming file and line, label encodings, normalisation checked
// against values computed here, and size mismatches as clear errors.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isScalpelError } from '../../src/errors.js';
import { readDatasetArtifact, requireSplit } from '../../src/data/dataset-artifact.js';
import type { Dataset } from '../../src/data/types.js';
import { loadDatasetStage } from '../../src/stages/load-dataset.js';
import { runStage } from '../helpers/stage-context.js';
import { tempDir } from '../helpers/paths.js';

async function load(
  params: Record<string, unknown>,
  recipeDir: string,
): Promise<{ ds: Dataset; warnings: string[]; metrics: Record<string, unknown> }> {
  const { ctx, result } = await runStage(loadDatasetStage, params, { recipeDir });
  return {
    ds: await readDatasetArtifact(ctx.outDir),
    warnings: ctx.logged.filter((m) => m.level === 'warn').map((m) => m.message),
    metrics: result.metrics ?? {},
  };
}

const isData = (re: RegExp) => (e: unknown) =>
  isScalpelError(e) && e.code === 'E_DATA' && re.test(e.message);

describe('csv source', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
    writeFileSync(
      join(dir, 'train.csv'),
      [
        'label,p1,p2,p3,p4',
        '0,0,10,20,255', //        line 2  record 0  ok
        '1,1,2,3', //              line 3  record 1  wrong length
        '2,4,x,6,7', //            line 4  record 2  non-numeric
        ',8,9,10,11', //           line 5  record 3  missing label
        '1,12,13,14,300', //       line 6  record 4  out of range
        '1,"15",16,17,18', //      line 7  record 5  ok (quoted)
        '1,19,,21,22', //          line 8  record 6  empty cell = non-numeric
        '2,23,24,25,26', //        line 9  record 7  ok
        '1,2,3,4,5,6', //          line 10 record 8  wrong length
        '',
      ].join('\r\n'),
    );
    writeFileSync(join(dir, 'test.csv'), 'label,p1,p2,p3,p4\n2,1,2,3,4\n0,5,6,7,8\n');
    writeFileSync(join(dir, 'named.csv'), 'a;b;kind\n0.5;-1.25;cat\n2;3;dog\n4;5;bird\n');
    writeFileSync(join(dir, 'nohead.csv'), '0,1,2,3\n1,4,5,6\n1,7,8\n');
  });

  it('skips malformed rows and counts them per reason with the first position', async () => {
    const { ds, warnings, metrics } = await load(
      {
        source: 'csv',
        files: { train: 'train.csv', test: 'test.csv' },
        normalize: { mean: 0.5, std: 0.25 },
      },
      dir,
    );
    const train = requireSplit(ds, 'train');
    assert.equal(train.count, 3);
    assert.deepEqual(Array.from(train.ids), [0, 5, 7]);
    assert.deepEqual(Array.from(train.y), [0, 1, 2]);
    assert.deepEqual(
      Array.from(train.x.subarray(0, 4)),
      [0, 10, 20, 255].map((p) => Math.fround((p / 255 - 0.5) / 0.25)),
    );
    assert.equal(train.x[4], Math.fround((15 / 255 - 0.5) / 0.25));
    assert.equal(requireSplit(ds, 'test').count, 2);
    assert.equal(ds.numClasses, 3);
    const s = (
      metrics.splits as Record<string, { skipped: number; skippedByReason: Record<string, number> }>
    ).train;
    assert.equal(s?.skipped, 6);
    assert.deepEqual(s?.skippedByReason, {
      'wrong-length': 2,
      'non-numeric': 2,
      'missing-label': 1,
      'out-of-range': 1,
    });
    assert.equal(warnings.length, 1);
    const w = warnings[0] ?? '';
    assert.match(w, /train: skipped 6 malformed records/);
    assert.match(
      w,
      /2 × wrong number of features \(first: .*train\.csv:3 \(record 1\): 4 columns, expected 5\)/,
    );
    assert.match(
      w,
      /2 × non-numeric feature value \(first: .*train\.csv:4 \(record 2\): value 1 is "x"\)/,
    );
    assert.match(w, /1 × missing label \(first: .*train\.csv:5 \(record 3\)/);
    assert.match(
      w,
      /1 × feature value out of range \(first: .*train\.csv:6 \(record 4\): value 3 is 300/,
    );
  });

  it('strict mode rejects the first malformed row with file:line', async () => {
    await assert.rejects(
      load({ source: 'csv', path: 'train.csv', strict: true }, dir),
      (e: unknown) =>
        isScalpelError(e) &&
        e.code === 'E_DATA' &&
        /malformed record at .*train\.csv:3 \(record 1\): wrong number of features \(4 columns, expected 5\)/.test(
          e.message,
        ) &&
        e.location?.line === 3,
    );
  });

  it('reads real-valued features with a named label column, class names and a delimiter', async () => {
    const { ds } = await load(
      {
        source: 'csv',
        path: 'named.csv',
        delimiter: ';',
        labelColumn: 'kind',
        classes: ['cat', 'dog', 'bird'],
        pixels: false,
        normalize: { mean: 1, std: 2 },
      },
      dir,
    );
    const train = requireSplit(ds, 'train');
    assert.deepEqual(Array.from(train.y), [0, 1, 2]);
    assert.deepEqual(
      Array.from(train.x),
      [0.5, -1.25, 2, 3, 4, 5].map((v) => Math.fround((v - 1) / 2)),
    );
    assert.deepEqual(ds.classNames, ['cat', 'dog', 'bird']);
    // an unknown class name is malformed
    const { ds: ds2, metrics } = await load(
      {
        source: 'csv',
        path: 'named.csv',
        delimiter: ';',
        labelColumn: 2,
        classes: ['cat', 'dog'],
        pixels: false,
      },
      dir,
    );
    assert.equal(requireSplit(ds2, 'train').count, 2);
    assert.deepEqual(
      (metrics.splits as Record<string, { skippedByReason: unknown }>).train?.skippedByReason,
      { 'bad-label': 1 },
    );
  });

  it('without a header: label column 0, expected length from the common row length', async () => {
    const { ds, metrics } = await load({ source: 'csv', path: 'nohead.csv', header: false }, dir);
    const train = requireSplit(ds, 'train');
    assert.deepEqual(Array.from(train.y), [0, 1]);
    assert.deepEqual(Array.from(train.x), [1, 2, 3, 4, 5, 6]);
    assert.equal(metrics.skipped, 1);
  });

  it('size mismatches are clear errors: shape vs columns, too many samples asked for, unparsable csv', async () => {
    await assert.rejects(
      load({ source: 'csv', path: 'train.csv', shape: [2, 3] }, dir),
      isData(/shape \[2, 3\] \(6 values\).*train\.csv \(4 feature columns\)/),
    );
    await assert.rejects(
      load({ source: 'csv', files: { train: 'train.csv', test: 'test.csv' }, test: 5 }, dir),
      isData(/`test: 5` asks for more samples than the 'test' split holds \(2 valid records\)/),
    );
    await assert.rejects(
      load({ source: 'csv', files: { train: 'train.csv', test: 'named.csv' } }, dir),
      (e: unknown) => isScalpelError(e) && /no column named 'label'/.test(e.message),
    );
    writeFileSync(join(dir, 'quote.csv'), 'label,a\n1,"2\n');
    await assert.rejects(
      load({ source: 'csv', path: 'quote.csv' }, dir),
      isData(/quote\.csv:\d+: cannot parse as csv/),
    );
    await assert.rejects(
      load({ source: 'csv', path: 'missing.csv' }, dir),
      (e: unknown) =>
        isScalpelError(e) && e.code === 'E_IO' && /data file not found/.test(e.message),
    );
  });
});

describe('jsonl source', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
    writeFileSync(
      join(dir, 'd.jsonl'),
      [
        '{"features":[0,128,255],"label":1}', //      line 1 record 0 ok
        '{"features":[1,2],"label":0}', //            line 2 record 1 wrong length
        '', //                                        blank: ignored
        '{"features":[1,"a",3],"label":0}', //        line 4 record 2 non-numeric
        '{"features":[1,2,3]}', //                    line 5 record 3 missing label
        'not json', //                                line 6 record 4 invalid
        '{"features":[4,5,6],"label":"2"}', //        line 7 record 5 ok (numeric string)
        '{"pixels":[4,5,6],"label":2}', //            line 8 record 6 no features field
        '{"features":[7,8,9],"label":-1}', //         line 9 record 7 bad label
      ].join('\n'),
    );
    writeFileSync(join(dir, 'custom.jsonl'), '{"x":[0.25,1e3],"y":"b"}\n{"x":[-1,2],"y":"a"}\n');
  });

  it('counts malformed lines per reason and keeps the good ones', async () => {
    const { ds, warnings, metrics } = await load(
      { source: 'jsonl', path: 'd.jsonl', scale: 2 },
      dir,
    );
    const train = requireSplit(ds, 'train');
    assert.deepEqual(Array.from(train.ids), [0, 5]);
    assert.deepEqual(Array.from(train.y), [1, 2]);
    assert.deepEqual(Array.from(train.x), [0, 256, 510, 8, 10, 12]);
    assert.deepEqual(
      (metrics.splits as Record<string, { skippedByReason: unknown }>).train?.skippedByReason,
      {
        'wrong-length': 1,
        'non-numeric': 1,
        'missing-label': 1,
        'invalid-record': 2,
        'bad-label': 1,
      },
    );
    assert.match(
      warnings[0] ?? '',
      /2 × unparsable record \(first: .*d\.jsonl:6 \(record 4\): invalid JSON/,
    );
    assert.match(
      warnings[0] ?? '',
      /1 × missing label \(first: .*d\.jsonl:5 \(record 3\): no 'label' field\)/,
    );
  });

  it('strict mode names file and line', async () => {
    await assert.rejects(
      load({ source: 'jsonl', path: 'd.jsonl', strict: true }, dir),
      isData(/d\.jsonl:2 \(record 1\): wrong number of features \(2 values, expected 3\)/),
    );
  });

  it('configurable field names, label map and real-valued features', async () => {
    const { ds } = await load(
      {
        source: 'jsonl',
        path: 'custom.jsonl',
        featuresField: 'x',
        labelField: 'y',
        labelMap: { a: 0, b: 1 },
        pixels: false,
      },
      dir,
    );
    const train = requireSplit(ds, 'train');
    assert.deepEqual(Array.from(train.x), [0.25, 1000, -1, 2]);
    assert.deepEqual(Array.from(train.y), [1, 0]);
    assert.equal(ds.numClasses, 2);
    // pixels: true (the default) rejects 0.25 and -1 as out of range
    const { metrics } = await load(
      {
        source: 'jsonl',
        path: 'custom.jsonl',
        featuresField: 'x',
        labelField: 'y',
        labelMap: { a: 0, b: 1 },
      },
      dir,
    );
    assert.deepEqual(
      (metrics.splits as Record<string, { skippedByReason: unknown }>).train?.skippedByReason,
      { 'out-of-range': 2 },
    );
  });

  it('schema and option errors', async () => {
    await assert.rejects(
      load({ source: 'jsonl', path: 'd.jsonl', bogus: 1 }, dir),
      (e: unknown) => isScalpelError(e) && e.code === 'E_RECIPE_SCHEMA',
    );
    await assert.rejects(
      load({ source: 'jsonl', path: 'd.jsonl', scale: 2, normalize: { mean: 0, std: 1 } }, dir),
      (e: unknown) => isScalpelError(e) && /either `normalize` or `scale`/.test(e.message),
    );
    await assert.rejects(
      load({ source: 'jsonl' }, dir),
      (e: unknown) => isScalpelError(e) && /needs `path` or `files`/.test(e.message),
    );
    await assert.rejects(
      load({ source: 'fashion-mnist', path: 'd.jsonl' }, dir),
      (e: unknown) => isScalpelError(e) && /takes no `path`/.test(e.message),
    );
  });
});
