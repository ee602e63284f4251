// The conformance suite every pruner passes — the bundled baselines, iCBS, and any plugin a user
// writes (`npm run test:plugin -- path/to/plugin.js`). It runs the pruner the way a recipe does:
// registered in a Registry under its plugin's name, `with` validated against the prune stage's
// schema, run by the real prune stage on a real trained model with real calibration data.
import { registryWithFamilies } from '../helpers/models.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Registry } from '../../src/registry/registry.js';
import { isScalpelError } from '../../src/errors.js';
import { readModelArtifact } from '../../src/models/model-artifact.js';
import { builtinFamilyLookup } from '../../src/models/families.js';
import type { Pruner } from '../../src/plugin-api/pruner.js';
import type { PrunableLayerInfo } from '../../src/plugin-api/layers.js';
import type { Artifact, StageType } from '../../src/plugin-api/stage.js';
import { densityViolation, patternViolation } from '../../src/pruning/mask-contract.js';
import { patternOf } from '../../src/pruning/prune-target.js';
import { globalKeepCount, countKept } from '../../src/pruning/select-mask.js';
import { parseRecipeYaml } from '../../src/recipe/parse-yaml.js';
import { validateStageParams } from '../../src/recipe/schema-validation.js';
import { pruneStage, type PruneStageParams } from '../../src/stages/prune.js';
import { builtinSolvers } from '../../src/solvers/index.js';
import { runStage } from '../helpers/stage-context.js';
import { pruneFixture, type PruneFixture } from './fixture.js';

export interface ConformanceOptions {
  /** The plugin name the pruner is registered under (errors must name it). */
  readonly plugin: string;
  /** Valid parameters of the pruner itself (not method/density/layers). Default: {} (its defaults). */
  readonly params?: Record<string, unknown>;
  /** Parameter sets its schema must reject. Default: an unknown key. */
  readonly invalidParams?: readonly Record<string, unknown>[];
  /** Density to prune at (ignored when params hold an N:M pattern). Default 0.3. */
  readonly density?: number;
  /** Per-test timeout in ms (default 120 s). */
  readonly timeout?: number;
  /** The model, dataset and calibration to prune (default: the shared MLP of fixture.ts). */
  readonly fixture?: () => Promise<PruneFixture>;
  /** The operator the suite excludes and checks untouched (default: the MLP's 'output'). */
  readonly excluded?: string;
  /** Shown in the suite's title after the pruner (e.g. the model it prunes). */
  readonly subject?: string;
}

type Kernels = Map<string, Float32Array>;

interface ModelState {
  kernels: Kernels;
  masks: Map<string, Uint8Array>;
  layers: Map<string, PrunableLayerInfo>;
}

async function kernelsOf(artifact: Artifact | string): Promise<ModelState> {
  const model = await readModelArtifact(artifact, builtinFamilyLookup);
  try {
    return {
      kernels: new Map(model.operators.map((l) => [l.name, model.readWeight(l.name)])),
      masks: model.masks,
      layers: new Map(model.operators.map((l) => [l.name, l])),
    };
  } finally {
    model.dispose();
  }
}

function dirDigest(dir: string): string {
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest('hex');
}

/** Registers mocha tests for `pruner`. Call inside a test file (or at top level of one). */
export function describePrunerConformance(pruner: Pruner, options: ConformanceOptions): void {
  const params = options.params ?? {};
  const pattern = patternOf(params);
  const density = pattern !== undefined ? pattern.keep / pattern.of : (options.density ?? 0.3);
  const excluded = options.excluded ?? 'output';
  const on = options.subject !== undefined ? ` on ${options.subject}` : '';

  describe(`pruner conformance: '${pruner.name}' (plugin '${options.plugin}')${on}`, function () {
    this.timeout(options.timeout ?? 120000);
    let f: PruneFixture;
    let registry: Registry;
    let stage: StageType<PruneStageParams>;
    let original: Kernels;
    let infos: Map<string, PrunableLayerInfo>;
    let inputDigest: string;

    before(async () => {
      f = await (options.fixture ?? pruneFixture)();
      registry = registryWithFamilies();
      registry.registerStage(pruneStage as StageType, 'builtin');
      for (const solver of builtinSolvers) registry.registerSolver(solver, 'builtin'); // iCBS solves QUBOs
      registry.registerAll({ pruners: [pruner] }, options.plugin);
      // The stage as a recipe sees it: validated against the schema built from the registry.
      stage = { ...pruneStage, schema: registry.paramsSchema('stage', 'prune') };
      const dense = await kernelsOf(f.model);
      original = dense.kernels;
      infos = dense.layers;
      inputDigest = dirDigest(f.model.dir);
    });

    const inputsFor = (): Artifact[] => [
      f.model,
      ...(pruner.calibration !== undefined &&
      Object.values(pruner.calibration).some((v) => v === true)
        ? [f.calibration]
        : []),
      ...(pruner.requiresDataset === true ? [f.dataset] : []),
    ];
    const withParams = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      method: pruner.name,
      ...(pattern === undefined ? { density } : {}),
      layers: { include: ['*'], exclude: [excluded] },
      ...params,
      ...extra,
    });
    // Validated (defaults filled) by the registry, as the engine does, then run by the stage.
    const resolved = (extra: Record<string, unknown>): Record<string, unknown> => {
      const p = structuredClone(withParams(extra));
      const validate = registry.validator('stage', 'prune');
      assert.ok(validate(p), `valid parameters: ${JSON.stringify(validate.errors)}`);
      return p;
    };
    const prune = (seed: number, extra: Record<string, unknown> = {}) =>
      runStage(stage, resolved(extra), { inputs: inputsFor(), seed, registry, stageId: 'prune' });

    let first: Awaited<ReturnType<typeof prune>>;
    let result: ModelState;
    let leaked = 0;

    it('runs through the prune stage and leaks no tensors', async () => {
      const before = tf.memory().numTensors;
      first = await prune(7);
      leaked = tf.memory().numTensors - before;
      result = await kernelsOf(first.artifact);
      assert.equal(leaked, 0, `${leaked} tensor(s) left undisposed`);
      assert.equal(first.result.kind, 'model');
    });

    it(
      pattern !== undefined
        ? `keeps the exact pattern ${pattern.keep}:${pattern.of}`
        : 'keeps the exact density in every selected layer',
      () => {
        assert.ok(result, 'the stage ran');
        const selected = [...original.keys()].filter((n) => n !== excluded);
        if (params.granularity === 'global' && pattern === undefined) {
          const kept = selected.reduce(
            (a, n) => a + countKept(result.masks.get(n) ?? new Uint8Array(0)),
            0,
          );
          const want = globalKeepCount(
            selected.map((n) => ({ density, size: original.get(n)?.length ?? 0 })),
          );
          assert.equal(kept, want);
          return;
        }
        for (const name of selected) {
          const mask = result.masks.get(name);
          const info = infos.get(name);
          assert.ok(mask && info, `a mask for ${name}`);
          const { fanIn, units } = info;
          const violation =
            pattern !== undefined
              ? patternViolation(mask, fanIn, units, pattern)
              : densityViolation(mask, fanIn, units, density);
          assert.equal(violation, undefined, `${name}: ${violation}`);
        }
      },
    );

    it('applies binary masks: pruned weights are exactly 0, kept weights are the originals (unless it reconstructs)', () => {
      assert.ok(result, 'the stage ran');
      for (const [name, mask] of result.masks) {
        const w = result.kernels.get(name);
        const w0 = original.get(name);
        assert.ok(w && w0);
        for (let j = 0; j < mask.length; j++) {
          assert.ok(mask[j] === 0 || mask[j] === 1, `${name}[${j}] mask ${mask[j]}`);
          if (mask[j] === 0) assert.ok(Object.is(w[j], 0), `${name}[${j}] pruned but ${w[j]}`);
          else if (pruner.reconstructsWeights !== true)
            assert.equal(w[j], w0[j], `${name}[${j}] kept but changed`);
        }
      }
    });

    it('respects layers.exclude: the excluded layer is untouched and has no mask', () => {
      assert.ok(result, 'the stage ran');
      assert.equal(result.masks.has(excluded), false);
      assert.deepEqual(result.kernels.get(excluded), original.get(excluded));
    });

    it('does not modify the input model artifact', async () => {
      assert.equal(dirDigest(f.model.dir), inputDigest);
      const again = await kernelsOf(f.model);
      for (const [name, w] of original) assert.deepEqual(again.kernels.get(name), w, name);
    });

    it('is deterministic for a seed', async () => {
      assert.ok(result, 'the stage ran');
      const second = await kernelsOf((await prune(7)).artifact);
      for (const [name, mask] of result.masks) {
        assert.deepEqual(second.masks.get(name), mask, `mask of ${name}`);
        assert.deepEqual(second.kernels.get(name), result.kernels.get(name), `weights of ${name}`);
      }
    });

    for (const bad of options.invalidParams ?? [{ notAParameterOfAnyPruner: 1 }]) {
      it(`rejects invalid parameters ${JSON.stringify(bad)} by schema, naming the pruner`, () => {
        const yaml = parseRecipeYaml(
          'conformance.yaml',
          'version: 1\nstages:\n  prune:\n    uses: prune\n',
        );
        const doc = { uses: 'prune', needs: [], with: withParams(bad) };
        assert.throws(
          () => validateStageParams(registry, 'prune', doc, yaml, []),
          (e: unknown) => {
            assert.ok(isScalpelError(e), String(e));
            assert.equal(e.code, 'E_RECIPE_SCHEMA');
            assert.match(e.format(), new RegExp(`pruner '${pruner.name}'`), e.format());
            return true;
          },
        );
      });
    }
  });
}
