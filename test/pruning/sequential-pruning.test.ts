// Sequential (block-by-block) pruning of a causal LM, checked against the float64 reference
// forward of test/models/hf-forward/reference.ts: block l's statistics must be those of the
// inputs the model produces after blocks < l were pruned (and reconstructed), each pruner call
// sees one block only, Wanda's masks equal a float64 Wanda written here, and `sequential: false`
// gives the dense-input variant.
import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { sparsegptPruner } from '../../plugins/baselines/sparsegpt.js';
import { wandaPruner } from '../../plugins/baselines/wanda.js';
import { Registry } from '../../src/registry/registry.js';
import { isScalpelError } from '../../src/errors.js';
import { initBackend } from '../../src/models/backend.js';
import { HfCausalLmModel } from '../../src/models/hf/causal-lm-model.js';
import { parseHfConfig } from '../../src/models/hf/hf-config.js';
import { readModelArtifact, writeModelArtifact } from '../../src/models/model-artifact.js';
import { writeDatasetArtifact } from '../../src/data/dataset-artifact.js';
import type { CalibrationData } from '../../src/plugin-api/calibration.js';
import type { Pruner } from '../../src/plugin-api/pruner.js';
import type { Artifact, StageType } from '../../src/plugin-api/stage.js';
import { readCalibrationArtifact } from '../../src/pruning/calibration-artifact.js';
import { calibrateStage } from '../../src/stages/calibrate.js';
import { pruneStage } from '../../src/stages/prune.js';
import { builtinFamilies } from '../../src/models/families.js';
import { tempDir } from '../helpers/paths.js';
import { artifactFrom, runStage } from '../helpers/stage-context.js';
import { llamaJson, llamaWeights, randomIds } from '../models/hf-forward/checkpoints.js';
import { refLlama } from '../models/hf-forward/reference.js';

const SEQ = 8;
const COUNT = 20;
const blocks = ['model.layers.0', 'model.layers.1'];
const projections = [
  'self_attn.q_proj',
  'self_attn.k_proj',
  'self_attn.v_proj',
  'self_attn.o_proj',
  'mlp.gate_proj',
  'mlp.up_proj',
  'mlp.down_proj',
];

/** [fanIn, units] view of an nn.Linear weight stored [units, fanIn]. */
function viewOf(stored: Float32Array, fanIn: number, units: number): Float64Array {
  const out = new Float64Array(fanIn * units);
  for (let o = 0; o < units; o++)
    for (let i = 0; i < fanIn; i++) out[i * units + o] = stored[o * fanIn + i] as number;
  return out;
}

/** Σ x_i² and XᵀX of X [rows, fanIn]. */
function stats(X: Float64Array, fanIn: number): { sq: Float64Array; gram: Float64Array } {
  const rows = X.length / fanIn;
  const sq = new Float64Array(fanIn);
  const gram = new Float64Array(fanIn * fanIn);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < fanIn; i++) {
      const xi = X[r * fanIn + i] as number;
      sq[i] = (sq[i] as number) + xi * xi;
      for (let j = 0; j < fanIn; j++)
        gram[i * fanIn + j] = (gram[i * fanIn + j] as number) + xi * (X[r * fanIn + j] as number);
    }
  return { sq, gram };
}

/** Float64 Wanda per output: keep the ⌊d·fanIn + ½⌋ largest |w|·‖x‖ of every output unit. */
function wandaMask(
  w: Float64Array,
  norms: Float64Array,
  fanIn: number,
  units: number,
  density: number,
): { mask: Uint8Array; ambiguous: Uint8Array } {
  const mask = new Uint8Array(fanIn * units);
  const ambiguous = new Uint8Array(fanIn * units);
  const keep = Math.floor(density * fanIn + 0.5);
  for (let o = 0; o < units; o++) {
    const s = Array.from({ length: fanIn }, (_, i) => ({
      i,
      v: Math.abs(w[i * units + o] as number) * (norms[i] as number),
    })).sort((a, b) => b.v - a.v);
    const cut = ((s[keep - 1]?.v ?? 0) + (s[keep]?.v ?? 0)) / 2;
    s.forEach(({ i, v }, rank) => {
      if (rank < keep) mask[i * units + o] = 1;
      // float32 statistics may order two scores this close the other way
      if (Math.abs(v - cut) <= 1e-4 * Math.max(cut, 1e-12)) ambiguous[i * units + o] = 1;
    });
  }
  return { mask, ambiguous };
}

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, rel: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i] as number));
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    assert.ok(d <= rel * scale, `${what}[${i}]: ${a[i]} vs ${b[i]} (scale ${scale})`);
  }
}

interface RecordedCall {
  layers: string[];
  calibration: CalibrationData | undefined;
  /** The Gram arrays themselves (not copies): the next block must get the same buffers back. */
  gramBuffers: Set<Float64Array>;
}

/** A layer-wise pruner that records what it is given and "reconstructs" by halving the kernel. */
function recordingPruner(calls: RecordedCall[]): Pruner {
  return {
    name: 'recorder',
    version: '1',
    description: 'test: records its calibration; keeps the first half of every layer at w/2',
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: { granularity: { enum: ['layer', 'global'] } },
    },
    calibration: { inputNorms: true, gram: true },
    reconstructsWeights: true,
    layerwise: true,
    async prune({ layers, calibration }) {
      // Copied: the arrays are this call's only (the stage reuses them for the next block).
      const copy =
        calibration === undefined
          ? undefined
          : {
              ...calibration,
              layers: new Map(
                [...calibration.layers].map(([k, c]) => [
                  k,
                  { ...c, ...(c.gram !== undefined ? { gram: c.gram.slice() } : {}) },
                ]),
              ),
            };
      const gramBuffers = new Set(
        [...(calibration?.layers.values() ?? [])].flatMap((c) => (c.gram ? [c.gram] : [])),
      );
      calls.push({ layers: layers.map((l) => l.info.name), calibration: copy, gramBuffers });
      const masks = new Map<string, Uint8Array>();
      const weights = new Map<string, Float32Array>();
      for (const l of layers) {
        const m = new Uint8Array(l.weights.length);
        m.fill(1, 0, Math.floor(l.density * m.length + 0.5));
        masks.set(l.info.name, m);
        weights.set(
          l.info.name,
          l.weights.map((v) => v / 2),
        );
      }
      return { masks, weights };
    },
  };
}

describe('sequential pruning of a causal LM (block by block)', function () {
  this.timeout(60_000);
  const weights = llamaWeights(3);
  const config = parseHfConfig(llamaJson);
  const d = llamaJson.hidden_size as number;
  let model: Artifact;
  let data: Artifact;
  let registry: Registry;
  let prune: StageType;
  const calls: RecordedCall[] = [];

  before(async () => {
    await initBackend('wasm');
    registry = new Registry();
    registry.registerAll({ families: builtinFamilies }, 'builtin');
    registry.registerStage(pruneStage as StageType, 'builtin');
    registry.registerAll(
      { pruners: [wandaPruner, sparsegptPruner, recordingPruner(calls)] },
      'test-plugin',
    );
    prune = { ...(pruneStage as StageType), schema: registry.paramsSchema('stage', 'prune') };

    const m = new HfCausalLmModel(config, weights);
    const modelDir = tempDir('scalpel-seq-model-');
    mkdirSync(modelDir, { recursive: true });
    const manifest = await writeModelArtifact(modelDir, m, registry);
    m.dispose();
    model = artifactFrom('model', modelDir, { stageId: 'model', manifest });

    const ids = randomIds(11, COUNT, SEQ);
    const dataDir = tempDir('scalpel-seq-data-');
    mkdirSync(dataDir, { recursive: true });
    const split = {
      name: 'train',
      count: COUNT,
      sampleShape: [SEQ],
      x: Float32Array.from(ids.flat()),
      y: new Int32Array(COUNT),
      ids: Int32Array.from({ length: COUNT }, (_, i) => 100 + i),
    };
    const dm = await writeDatasetArtifact(dataDir, {
      source: 'text',
      numClasses: 50,
      splits: new Map([['train', split]]),
    });
    data = artifactFrom('dataset', dataDir, { stageId: 'data', manifest: dm });
  });

  async function calibrate(extra: Record<string, unknown> = {}): Promise<Artifact> {
    const r = await runStage(
      calibrateStage,
      { samples: 12, batchSize: 5, ...extra },
      { inputs: [model, data], stageId: 'calib', registry, seed: 5 },
    );
    return r.artifact;
  }

  /** The token ids of the calibration samples, looked up in the dataset by the recorded ids. */
  async function calibrationIds(cal: Artifact): Promise<number[][]> {
    const c = await readCalibrationArtifact(cal);
    const all = randomIds(11, COUNT, SEQ);
    return c.sampleIds.map((id) => all[id - 100] as number[]);
  }

  it('calibrate on a causal LM is sequential by default and records where its samples came from', async () => {
    const cal = await readCalibrationArtifact(await calibrate());
    assert.ok(cal.sequential, 'sequential by default for causal-lm');
    assert.equal(cal.sequential.samples.count, 12);
    assert.equal(cal.sequential.batchSize, 5);
    assert.deepEqual(cal.provenance, { source: 'text', seed: 5, sampleShape: [SEQ] });
    const all = randomIds(11, COUNT, SEQ);
    cal.sampleIds.forEach((id, k) =>
      assert.deepEqual(
        Array.from(cal.sequential?.samples.x.subarray(k * SEQ, (k + 1) * SEQ) ?? []),
        all[id - 100],
      ),
    );
    // dense norms are kept (for OWL and iCBS's initial masks), XᵀX and gradients are not
    const q = cal.layers.get('model.layers.0.self_attn.q_proj');
    assert.ok(q?.inputNorms && q.gram === undefined && q.meanGradient === undefined);
  });

  it('block 1 is calibrated on the outputs of block 0 as pruned and reconstructed, one block per call', async () => {
    calls.length = 0;
    const cal = await calibrate();
    const ids = await calibrationIds(cal);
    const { result } = await runStage(
      prune,
      { method: 'recorder', density: 0.5 },
      { inputs: [model, cal], stageId: 'prune', registry },
    );
    assert.equal(calls.length, 2, 'one pruner call per transformer block');
    calls.forEach((call, b) => {
      assert.deepEqual(
        call.layers,
        projections.map((p) => `${blocks[b]}.${p}`),
      );
      assert.deepEqual([...(call.calibration?.layers.keys() ?? [])], call.layers);
    });
    assert.equal((result.metrics as { sequential?: { blocks: number } }).sequential?.blocks, 2);
    // Block 1's Gram matrices are block 0's buffers, zeroed and refilled (Float64Scratch).
    assert.equal(calls[0]?.gramBuffers.size, projections.length);
    for (const g of calls[1]?.gramBuffers ?? []) assert.ok(calls[0]?.gramBuffers.has(g));

    // Reference: block 0 from the dense model; block 1 with block 0 replaced by what the
    // recorder returned: the first half of the [fanIn, units] view kept, at w/2.
    const dense = refLlama(llamaJson, weights, ids);
    const replaced = new Map<string, Float64Array>();
    for (const p of projections) {
      const name = `${blocks[0]}.${p}`;
      const info = calls[0]?.calibration?.layers.get(name);
      assert.ok(info);
      const stored = weights.get(`${name}.weight`) as Float32Array;
      const fanIn = (dense.inputs.get(name)?.length ?? 0) / (ids.length * SEQ);
      const units = stored.length / fanIn;
      const w = viewOf(stored, fanIn, units);
      const keep = Math.floor(0.5 * w.length + 0.5);
      for (let j = 0; j < w.length; j++) w[j] = j < keep ? (w[j] as number) / 2 : 0;
      replaced.set(name, w);
    }
    const after0 = refLlama(llamaJson, weights, ids, { weights: replaced });
    for (const [b, ref] of [
      [0, dense],
      [1, after0],
    ] as const) {
      for (const p of projections) {
        const name = `${blocks[b]}.${p}`;
        const X = ref.inputs.get(name) as Float64Array;
        const fanIn = X.length / (ids.length * SEQ);
        const { sq, gram } = stats(X, fanIn);
        const got = calls[b]?.calibration?.layers.get(name);
        assert.equal(got?.rows, ids.length * SEQ, `${name}: rows = every token position`);
        assertClose(got?.inputNorms ?? [], sq.map(Math.sqrt), 1e-4, `${name} norms`);
        assertClose(got?.gram ?? [], gram, 1e-4, `${name} XᵀX`);
      }
    }
    // The dense statistics of block 1 differ: the test would notice a non-sequential run.
    const X1 = dense.inputs.get(`${blocks[1]}.${projections[0]}`) as Float64Array;
    const denseNorms = stats(X1, d).sq.map(Math.sqrt);
    const seqNorms = calls[1]?.calibration?.layers.get(
      `${blocks[1]}.${projections[0]}`,
    )?.inputNorms;
    let diff = 0;
    for (let i = 0; i < d; i++)
      diff = Math.max(diff, Math.abs((seqNorms?.[i] ?? 0) - (denseNorms[i] as number)));
    assert.ok(diff > 1e-2, `block 1's inputs changed after block 0 was pruned (${diff})`);
  });

  for (const sequential of [true, false]) {
    it(`wanda per output, sequential: ${sequential}, equals a float64 Wanda on ${sequential ? 'pruned' : 'dense'} inputs`, async () => {
      const cal = await calibrate(sequential ? {} : { sequential: false });
      const ids = await calibrationIds(cal);
      const { artifact } = await runStage(
        prune,
        { method: 'wanda', density: 0.5 },
        { inputs: [model, cal], stageId: 'prune', registry },
      );
      const pruned = await readModelArtifact(artifact, registry);
      try {
        const replaced = new Map<string, Float64Array>();
        let mismatches = 0;
        for (const block of blocks) {
          // Sequential: this block's inputs come from the model with earlier blocks pruned.
          const ref = refLlama(llamaJson, weights, ids, sequential ? { weights: replaced } : {});
          const blockMasks = new Map<string, Float64Array>();
          for (const p of projections) {
            const name = `${block}.${p}`;
            const X = ref.inputs.get(name) as Float64Array;
            const fanIn = X.length / (ids.length * SEQ);
            const stored = weights.get(`${name}.weight`) as Float32Array;
            const units = stored.length / fanIn;
            const w = viewOf(stored, fanIn, units);
            const { mask, ambiguous } = wandaMask(
              w,
              stats(X, fanIn).sq.map(Math.sqrt),
              fanIn,
              units,
              0.5,
            );
            const got = pruned.masks.get(name);
            assert.ok(got, `${name} has a mask`);
            let here = 0;
            for (let j = 0; j < mask.length; j++) {
              if (ambiguous[j] === 1) continue;
              if (got[j] !== mask[j]) here++;
            }
            mismatches += here;
            blockMasks.set(
              name,
              w.map((v, j) => (mask[j] === 1 ? v : 0)),
            );
          }
          for (const [k, v] of blockMasks) replaced.set(k, v);
        }
        assert.equal(mismatches, 0, 'masks equal the float64 reference (away from ties)');
      } finally {
        pruned.dispose();
      }
    });
  }

  for (const pattern of [
    { keep: 2, of: 4 },
    { keep: 4, of: 8 },
  ]) {
    it(`sparsegpt ${pattern.keep}:${pattern.of}, sequential: every group of ${pattern.of} inputs of every output keeps exactly ${pattern.keep}, zeros where masked`, async () => {
      const cal = await calibrate();
      const { artifact, result } = await runStage(
        prune,
        { method: 'sparsegpt', pattern },
        { inputs: [model, cal], stageId: 'prune', registry },
      );
      assert.equal((result.metrics as { sequential?: { blocks: number } }).sequential?.blocks, 2);
      const pruned = await readModelArtifact(artifact, registry);
      try {
        for (const op of pruned.operators) {
          const mask = pruned.masks.get(op.name);
          assert.ok(mask, op.name);
          const w = pruned.readWeight(op.name);
          for (let o = 0; o < op.units; o++)
            for (let g = 0; g < op.fanIn; g += pattern.of) {
              let kept = 0;
              for (let i = g; i < g + pattern.of; i++) kept += mask[i * op.units + o] as number;
              assert.equal(kept, pattern.keep, `${op.name} output ${o} group ${g}`);
            }
          for (let j = 0; j < w.length; j++)
            if (mask[j] === 0) assert.ok(Object.is(w[j], 0), `${op.name}[${j}] is masked`);
        }
      } finally {
        pruned.dispose();
      }
    });
  }

  it('a non-layer-wise pruner reading XᵀX, or a global ranking, cannot run sequentially: clear errors', async () => {
    const cal = await calibrate();
    const globalRecorder: Pruner = {
      ...recordingPruner([]),
      name: 'global-recorder',
      layerwise: false,
    };
    const r2 = new Registry();
    r2.registerAll({ families: builtinFamilies }, 'builtin');
    r2.registerStage(pruneStage as StageType, 'builtin');
    r2.registerAll({ pruners: [globalRecorder] }, 'test-plugin');
    const stage = { ...(pruneStage as StageType), schema: r2.paramsSchema('stage', 'prune') };
    await assert.rejects(
      runStage(
        stage,
        { method: 'global-recorder', density: 0.5 },
        { inputs: [model, cal], stageId: 'p', registry: r2 },
      ),
      (e: unknown) => {
        assert.ok(isScalpelError(e));
        assert.match(e.message, /sequential .* pruner 'global-recorder' is not layer-wise/);
        assert.match(e.hint ?? '', /sequential: false/);
        return true;
      },
    );
    await assert.rejects(
      runStage(
        prune,
        { method: 'recorder', density: 0.5, granularity: 'global' },
        { inputs: [model, cal], stageId: 'p', registry },
      ),
      (e: unknown) => {
        assert.ok(isScalpelError(e));
        assert.match(e.message, /granularity 'global'/);
        assert.match(e.hint ?? '', /sequential: false/);
        return true;
      },
    );
  });
});
