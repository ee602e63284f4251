// The report's charts: a method keeps its colour, one density is a bar chart, per-layer density
// is drawn only when it carries information, lower-is-better metrics are ranked and labelled as
// such, and --png writes real PNGs (signature, IHDR size = the SVG's size × scale, CRCs, and
// the inflated pixel data of exactly height × (1 + width × channels) bytes).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, inflateSync } from 'node:zlib';
import { runSweep } from '../../src/sweep/sweep-run.js';
import { writeReport } from '../../src/report/build-report.js';
import { methodColor, seriesColors } from '../../src/report/chart-palette.js';
import { pruningCurveSpec } from '../../src/report/chart-specs.js';
import type { EvalRow } from '../../src/report/collect.js';
import { compareTable } from '../../src/report/compare.js';
import { layerDensitiesInformative } from '../../src/report/layer-density-chart.js';
import type { ParamValue } from '../../src/report/lineage.js';
import { tempDir } from '../helpers/paths.js';
import { toyProject, withSweep } from '../sweep/helpers.js';

function row(
  method: string,
  density: number,
  seed: number,
  metrics: Record<string, unknown>,
  pruneParams: Record<string, ParamValue> = {},
): EvalRow {
  const params = { 'prune.method': method, 'prune.density': density, ...pruneParams };
  const lineage = { key: JSON.stringify(params), params, prefixes: { [`p-${method}`]: 'prune' } };
  return {
    source: 'run',
    trial: seed,
    seed,
    evalStage: `e-${method}`,
    pruneStage: `p-${method}`,
    method,
    name: method,
    lineage,
    pruneLineage: lineage,
    density,
    metrics,
    pruneMetrics: { method, density },
    parameters: {},
  };
}

interface PngInfo {
  width: number;
  height: number;
  colorType: number;
  idat: Buffer;
}

/** Walk the PNG's chunks, checking each CRC. */
function readPng(file: string): PngInfo {
  const b = readFileSync(file);
  assert.deepEqual([...b.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8;
  let ihdr: Buffer | undefined;
  const idat: Buffer[] = [];
  let sawEnd = false;
  while (off < b.length) {
    const len = b.readUInt32BE(off);
    const type = b.subarray(off + 4, off + 8).toString('ascii');
    const data = b.subarray(off + 8, off + 8 + len);
    assert.equal(b.readUInt32BE(off + 8 + len), crc32(b.subarray(off + 4, off + 8 + len)), type);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    if (type === 'IEND') sawEnd = true;
    off += 12 + len;
  }
  assert.ok(ihdr !== undefined && sawEnd, 'IHDR and IEND present');
  assert.equal(ihdr.readUInt8(8), 8, 'bit depth 8');
  return {
    width: ihdr.readUInt32BE(0),
    height: ihdr.readUInt32BE(4),
    colorType: ihdr.readUInt8(9),
    idat: Buffer.concat(idat),
  };
}

describe('report charts', function () {
  this.timeout(120_000);

  it('a method has one colour everywhere; its variants are shades of it', () => {
    assert.equal(methodColor('icbs'), '#4e79a7');
    assert.equal(methodColor('mine'), methodColor('mine'));
    const a = seriesColors([
      { label: 'icbs', method: 'icbs' },
      { label: 'wanda', method: 'wanda' },
    ]);
    const b = seriesColors([
      { label: 'wanda', method: 'wanda' },
      { label: 'icbs + finetune', method: 'icbs' },
      { label: 'icbs', method: 'icbs' },
      { label: 'magnitude', method: 'magnitude' },
    ]);
    const colorOf = (s: { domain: string[]; range: string[] }, l: string): string | undefined =>
      s.range[s.domain.indexOf(l)];
    assert.equal(colorOf(a, 'icbs'), colorOf(b, 'icbs'));
    assert.equal(colorOf(a, 'wanda'), colorOf(b, 'wanda'));
    const ft = colorOf(b, 'icbs + finetune') ?? '';
    assert.notEqual(ft, methodColor('icbs'));
    // A darker shade of the same hue: every channel scaled by the same factor.
    const rgb = (h: string): number[] => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
    const ratios = rgb(ft).map((c, i) => c / (rgb(methodColor('icbs'))[i] ?? 1));
    assert.ok(Math.max(...ratios) - Math.min(...ratios) < 0.02, `${ratios.join(' ')}`);
  });

  it('one density is a bar chart; several are lines', () => {
    const one = compareTable([
      row('icbs', 0.1, 1, { accuracy: 0.8 }),
      row('icbs', 0.1, 2, { accuracy: 0.82 }),
      row('wanda', 0.1, 1, { accuracy: 0.7 }),
    ]);
    const bars = pruningCurveSpec(one);
    assert.equal(bars?.id, 'pruning-bars');
    assert.deepEqual(bars?.expectedMarks, { rect: 2, rule: 1 });
    const many = compareTable([
      row('icbs', 0.1, 1, { accuracy: 0.8 }),
      row('icbs', 0.3, 1, { accuracy: 0.9 }),
    ]);
    assert.equal(pruningCurveSpec(many)?.id, 'pruning-curve');
  });

  it('per-layer density only when it varies or was asked to', () => {
    const uniform = { layers: { a: { density: 0.5 }, b: { density: 0.5004 } } };
    assert.equal(
      layerDensitiesInformative([row('wanda', 0.5, 1, { accuracy: 1, ...uniform })]),
      false,
    );
    const spread = { layers: { a: { density: 0.3 }, b: { density: 0.7 } } };
    assert.equal(
      layerDensitiesInformative([row('wanda', 0.5, 1, { accuracy: 1, ...spread })]),
      true,
    );
    const asked: Record<string, ParamValue>[] = [
      { 'prune.layerDensities': 'owl' },
      { 'prune.layerDensities.method': 'owl' },
      { 'prune.pattern': '2:4' },
      { 'prune.layers.density.dense_1': 0.2 },
    ];
    for (const p of asked)
      assert.equal(
        layerDensitiesInformative([row('wanda', 0.5, 1, { accuracy: 1, ...uniform }, p)]),
        true,
        JSON.stringify(p),
      );
  });

  it('lower-is-better metrics rank the smallest first and say so', () => {
    const rows = [
      row('icbs', 0.5, 1, { loss: 2.0, perplexity: Math.exp(2.0) }),
      row('icbs', 0.5, 2, { loss: 2.2, perplexity: Math.exp(2.2) }),
      row('wanda', 0.5, 1, { loss: 1.9, perplexity: Math.exp(1.9) }),
      row('magnitude', 0.5, 1, { loss: 3.0, perplexity: Math.exp(3.0) }),
    ];
    for (const metric of ['loss', 'perplexity']) {
      const t = compareTable(rows, { metric });
      assert.equal(t.higherIsBetter, false);
      // icbs mean loss 2.1 > wanda 1.9: wanda first, magnitude last.
      assert.deepEqual(
        t.rows.map((r) => [r.name, r.rank]),
        [
          ['wanda', 1],
          ['icbs', 2],
          ['magnitude', 3],
        ],
      );
      assert.equal(t.rows[0]?.best, true);
      const icbsMean = metric === 'loss' ? 2.1 : (Math.exp(2.0) + Math.exp(2.2)) / 2;
      assert.ok(
        Math.abs((t.rows[1]?.delta ?? NaN) - (icbsMean - (metric === 'loss' ? 3 : Math.exp(3)))) <
          1e-12,
      );
      const spec = JSON.stringify(pruningCurveSpec(t)?.spec);
      assert.match(spec, new RegExp(`${metric} ↓ \\(lower is better\\)`));
    }
  });

  it('the delta is against the one baseline row even when method-specific parameters differ', () => {
    // compare-one-shot: magnitude has granularity 'layer', wanda 'per-output', icbs none
    const rows = [
      row('magnitude', 0.1, 1, { accuracy: 0.58 }, { 'prune.granularity': 'layer' }),
      row('wanda', 0.1, 1, { accuracy: 0.57 }, { 'prune.granularity': 'per-output' }),
      row('icbs', 0.1, 1, { accuracy: 0.87 }),
    ];
    const t = compareTable(rows, { metric: 'accuracy' });
    const delta = new Map(t.rows.map((r) => [r.name, r.delta]));
    assert.equal(delta.get('magnitude'), 0);
    assert.ok(Math.abs((delta.get('wanda') ?? NaN) - (0.57 - 0.58)) < 1e-12);
    assert.ok(Math.abs((delta.get('icbs') ?? NaN) - (0.87 - 0.58)) < 1e-12);
  });

  it('--png writes each chart as a PNG of the SVG size × scale', async () => {
    const { dir, recipe } = toyProject(
      withSweep(`
sweep:
  method: grid
  parameters:
    density:
      paths: [stages.prune-mag.with.density, stages.prune-rand.with.density, stages.prune-step.with.density]
      values: [0.1, 0.6]
  repeats: 1
`),
    );
    const s = await runSweep(recipe, { cwd: dir, quiet: true });
    const out = join(tempDir('scalpel-png-'), 'r.html');
    const r = await writeReport([s.dir], { out, png: 2 });
    assert.ok(r.charts.length >= 3);
    for (const c of r.charts) {
      const svg = readFileSync(c.file, 'utf8');
      const w = Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1]);
      const h = Number(/<svg[^>]*\sheight="([\d.]+)"/.exec(svg)?.[1]);
      assert.ok(c.png !== undefined && w > 100 && h > 100);
      assert.equal(c.png.file, c.file.replace(/\.svg$/, '.png'), 'beside the SVG');
      const png = readPng(c.png.file);
      assert.equal(png.width, Math.round(2 * w), `${c.id} width`);
      assert.equal(png.height, Math.round(2 * h), `${c.id} height`);
      const channels = png.colorType === 6 ? 4 : png.colorType === 2 ? 3 : NaN;
      assert.equal(inflateSync(png.idat).length, png.height * (1 + png.width * channels));
    }
  });
});
