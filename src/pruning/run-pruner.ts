// Everything a pruning stage does around a Pruner: resolve density and layers, find the inputs
// the pruner declared (model, calibration, dataset), run it, hold its result to the contract
// (mask-contract.ts), apply masks (and reconstructed weights), write the pruned model artifact and
// report metrics. Used by the generic `prune` stage and by the `icbs` stage type alike.
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError, asScalpelError } from '../errors.js';
import type { Mask } from '../plugin-api/layers.js';
import type { LayerToPrune, Pruner } from '../plugin-api/pruner.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { readModelArtifact, writeModelArtifact } from '../models/model-artifact.js';
import { checkPruneResult, type MaskRule } from './mask-contract.js';
import { selectLayers, type LayerSelectionSpec } from './layer-selection.js';
import { checkPatternFits, countKept } from './select-mask.js';
import { prunerParams } from './prune-schema.js';
import { loadPrunerInputs } from './pruner-inputs.js';
import { resolvePruneTarget } from './prune-target.js';
import { layerDensitiesRecord, resolveLayerDensities } from './layer-densities.js';

export interface RunPrunerOptions {
  /** The plugin the pruner came from (default: asked from ctx.registry). */
  readonly origin?: string;
  /** Exact-density rule to check the masks against (default: from params `granularity`/`pattern`). */
  readonly maskRule?: MaskRule;
}

export interface LayerPruneMetrics {
  density: number;
  kept: number;
  size: number;
}

function originOf(ctx: StageContext<unknown>, pruner: Pruner): string {
  try {
    return ctx.registry.originOf('pruner', pruner.name);
  } catch {
    return 'unregistered';
  }
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let j = 0; j < a.length; j++) if (!Object.is(a[j], b[j])) return false;
  return true;
}

/**
 * Run `pruner` as the stage `ctx` describes (`ctx.params`: density, layers and the pruner's own
 * parameters, schema-validated) and write the pruned model to `ctx.outDir`.
 */
export async function runPruner(
  pruner: Pruner,
  ctx: StageContext<Record<string, unknown>>,
  options: RunPrunerOptions = {},
): Promise<StageResult> {
  const plugin = options.origin ?? originOf(ctx, pruner);
  const who = { pruner: pruner.name, plugin, stageId: ctx.stageId };
  const target = resolvePruneTarget(ctx, pruner, options.maskRule);
  const inputs = await loadPrunerInputs(ctx, pruner, plugin);

  const model = await readModelArtifact(inputs.model, ctx.registry);
  const available = model.operators;
  try {
    const selected = selectLayers(available, target.layers as LayerSelectionSpec, target.density, {
      path: `stages.${ctx.stageId}.with.layers`,
      stageId: ctx.stageId,
      log: ctx.log,
    });
    if (target.rule.pattern !== undefined) {
      for (const s of selected) checkPatternFits(target.rule.pattern, s.info.fanIn, s.info.name);
    }
    inputs.checkCalibrationCovers(selected.map((s) => s.info.name));

    const originals = new Map(available.map((l) => [l.name, model.readWeight(l.name)]));
    // `layerDensities: owl`: per-layer densities instead of the uniform (or layers.density) ones.
    const owl = await resolveLayerDensities({
      ctx,
      pruner: pruner.name,
      target,
      selected,
      weights: originals,
      calibration: inputs.calibration,
    });
    const layers: LayerToPrune[] = selected.map((s) => ({
      info: s.info,
      // A copy per layer: a pruner that scribbles on it cannot corrupt our reference.
      weights: Float32Array.from(originals.get(s.info.name) ?? []),
      density: owl?.densities.get(s.info.name) ?? s.density,
    }));

    const tensorsBefore = tf.memory().numTensors;
    const started = performance.now();
    let result: unknown;
    try {
      result = await pruner.prune({
        model,
        layers,
        calibration: inputs.calibration,
        dataset: inputs.dataset,
        params: prunerParams(ctx.params),
        seed: ctx.seed,
        rng: ctx.rng.fork(`pruner:${pruner.name}`),
        log: ctx.log,
        progress: (label, total) => ctx.progress(label, total),
        event: (type, data) => ctx.event(type, data),
        signal: ctx.signal,
        registry: ctx.registry,
      });
    } catch (e) {
      if (e instanceof ScalpelError) throw e;
      throw asScalpelError(
        e,
        ErrorCode.Stage,
        `pruner '${pruner.name}' (plugin '${plugin}') failed`,
        {
          stageId: ctx.stageId,
          plugin,
        },
      );
    }
    const timeMs = performance.now() - started;
    const leaked = tf.memory().numTensors - tensorsBefore;
    if (leaked > 0) {
      ctx.log.warn(
        `pruner '${pruner.name}' (plugin '${plugin}') left ${leaked} tfjs tensor(s) undisposed`,
        { leaked },
      );
    }

    const checked = checkPruneResult(
      result,
      layers,
      target.rule,
      pruner.reconstructsWeights === true,
      who,
    );
    const selectedNames = new Set(selected.map((s) => s.info.name));
    for (const l of available) {
      const now = model.readWeight(l.name);
      const touched = !sameValues(now, originals.get(l.name) ?? new Float32Array(0));
      if (touched && (!selectedNames.has(l.name) || pruner.reconstructsWeights !== true)) {
        throw new ScalpelError(
          ErrorCode.Stage,
          `pruner '${pruner.name}' (plugin '${plugin}') broke the pruner contract: it changed the weights of ${selectedNames.has(l.name) ? '' : 'unselected '}layer '${l.name}' in the model`,
          {
            stageId: ctx.stageId,
            plugin,
            layer: l.name,
            hint: selectedNames.has(l.name)
              ? 'a pruner returns masks (and, with reconstructsWeights: true, new weights); it must not write into args.model'
              : 'layers outside args.layers must stay untouched',
          },
        );
      }
    }

    // Apply: the (reconstructed or original) kernel with pruned weights set to exactly 0.
    const perLayer: Record<string, LayerPruneMetrics> = {};
    let kept = 0;
    let size = 0;
    for (const layer of layers) {
      const name = layer.info.name;
      const mask = checked.masks.get(name) as Mask;
      const base = checked.weights?.get(name) ?? (originals.get(name) as Float32Array);
      const w = Float32Array.from(base);
      for (let j = 0; j < w.length; j++) if (mask[j] === 0) w[j] = 0;
      model.writeWeight(name, w);
      const k = countKept(mask);
      perLayer[name] = { density: k / mask.length, kept: k, size: mask.length };
      kept += k;
      size += mask.length;
    }
    for (const [name, mask] of checked.masks) model.masks.set(name, mask);
    const manifest = await writeModelArtifact(ctx.outDir, model, ctx.registry);

    const density = size > 0 ? kept / size : 0;
    ctx.log.info(
      `${pruner.name}: kept ${(100 * density).toFixed(2)}% of ${size.toLocaleString('en-US')} weights in ${layers.length} layer(s) (${(timeMs / 1000).toFixed(2)} s)`,
    );
    const info = (result as { info?: unknown }).info;
    const infoObject =
      info !== null && typeof info === 'object' ? (info as Record<string, unknown>) : {};
    return {
      kind: 'model',
      manifest: {
        ...manifest,
        pruning: {
          method: pruner.name,
          version: pruner.version,
          plugin,
          ...(owl !== undefined ? { layerDensities: layerDensitiesRecord(owl) } : {}),
        },
      },
      metrics: {
        ...infoObject,
        method: pruner.name,
        density,
        targetDensity: target.density,
        kept,
        size,
        layers: perLayer,
        ...(owl !== undefined ? { layerDensities: owl.info } : {}),
        timeMs,
        ...(leaked > 0 ? { leakedTensors: leaked } : {}),
      },
    };
  } finally {
    model.dispose();
  }
}
