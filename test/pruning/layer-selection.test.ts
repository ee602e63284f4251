import assert from 'node:assert/strict';
import { ScalpelError } from '../../src/errors.js';
import type { PrunableLayerInfo } from '../../src/plugin-api/layers.js';
import { selectLayers } from '../../src/pruning/layer-selection.js';

function layer(name: string, fanIn: number, units: number): PrunableLayerInfo {
  return {
    name,
    kind: 'dense',
    kernelShape: [fanIn, units],
    fanIn,
    units,
    paramCount: fanIn * units,
  };
}
const model = [
  layer('dense_1', 784, 256),
  layer('dense_2', 256, 128),
  layer('conv_a', 9, 8),
  layer('output', 128, 10),
];

function recordingLog(): {
  warnings: string[];
  log: { error(): void; warn(m: string): void; info(): void; debug(): void };
} {
  const warnings: string[] = [];
  return {
    warnings,
    log: { error() {}, warn: (m: string) => void warnings.push(m), info() {}, debug() {} },
  };
}

describe('layer selection', () => {
  it('includes all by default, respects exclude, keeps model order', () => {
    const sel = selectLayers(model, { exclude: ['output'] }, 0.2);
    assert.deepEqual(
      sel.map((s) => [s.info.name, s.density]),
      [
        ['dense_1', 0.2],
        ['dense_2', 0.2],
        ['conv_a', 0.2],
      ],
    );
  });

  it('globs and /regex/ patterns; later density overrides win', () => {
    const sel = selectLayers(
      model,
      { include: ['dense_*', '/^conv/'], density: { '*': 0.5, '/_2$/': 0.3 } },
      0.1,
    );
    assert.deepEqual(
      sel.map((s) => [s.info.name, s.density]),
      [
        ['dense_1', 0.5],
        ['dense_2', 0.3],
        ['conv_a', 0.5],
      ],
    );
    const braces = selectLayers(model, { include: ['{dense_1,output}'] }, 0.1);
    assert.deepEqual(
      braces.map((s) => s.info.name),
      ['dense_1', 'output'],
    );
  });

  it('warns about patterns that match nothing', () => {
    const { warnings, log } = recordingLog();
    selectLayers(
      model,
      { include: ['dense_*', 'dnse_9'], exclude: ['nothing'], density: { output: 0.4 } },
      0.1,
      {
        log,
        path: 'stages.prune.with.layers',
      },
    );
    assert.equal(warnings.length, 3);
    assert.match(
      warnings[0] ?? '',
      /stages\.prune\.with\.layers\.include: 'dnse_9' matches no layer/,
    );
    assert.match(warnings[2] ?? '', /density: 'output' matches no selected layer/);
  });

  it('an empty selection is an error naming the patterns and the available layers', () => {
    assert.throws(
      () =>
        selectLayers(model, { include: ['dense_*'], exclude: ['/dense/'] }, 0.1, {
          stageId: 'prune',
        }),
      (e: unknown) =>
        e instanceof ScalpelError &&
        e.code === 'E_STAGE' &&
        /no layer selected/.test(e.message) &&
        /dense_\*/.test(e.message) &&
        /dense_1 \(784×256\)/.test(e.hint ?? ''),
    );
  });

  it('rejects an invalid regular expression', () => {
    assert.throws(
      () => selectLayers(model, { include: ['/([/'] }, 0.1),
      /not a valid regular expression/,
    );
  });
});
