// Everything a pruning stage does around a Pruner: resolve density and layers, find the inputs
// the pruner declared (model, calibration, dataset), run it, hold its result to the contract
// (mask-contract.ts), keep what an input model's masks pruned pruned (round-start-mask.ts), apply
// masks (and reconstructed weights), write the pruned model artifact and report metrics. Used by
// the generic `prune` stage and by the `icbs` stage type alike.
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError, asScalpelError } from '../errors.js';
import { blockOf, type Mask, type PrunableLayerInfo } from '../plugin-api/layers.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { LayerToPrune, Pruner } from '../plugin-api/pruner.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { readModelArtifact, writeModelArtifact } from '../models/model-artifact.js';
import { valuesView } from '../models/tensor-storage.js';
import { checkPruneResult, type MaskRule } from './mask-contract.js';
import { selectLayers } from './layer-selection.js';
import { checkPatternFits, countKept } from './select-mask.js';
import { prunerParams } from './prune-schema.js';
import { loadPrunerInputs } from './pruner-inputs.js';
import { resolvePruneTarget } from './prune-target.js';
import { ArrayScratch } from './array-scratch.js';
import { packMask, unpackMask, type PackedMask } from './packed-mask.js';
import { planPrune, unitCalibration } from './sequential-pruning.js';
import type { StatisticsFunction } from './layer-statistics.js';
import { isWithin, keepIncomingPruned } from './round-start-mask.js';
import { isObject } from '../util/is-object.js';
import { layerDensitiesRecord, owlSpecOf, resolveLayerDensities } from './layer-densities.js';

export interface RunPrunerOptions {
  /** The plugin the pruner came from (default: asked from ctx.registry). */
  readonly origin?: string;
  /** Exact-density rule to check the masks against (default: from params `granularity`/`pattern`). */
  readonly maskRule?: MaskRule;
  /**
   * How sequential pruning computes each block's statistics (default layerStatistics on this
   * thread; the prune stage passes the data-parallel one, src/parallel/calibration.ts).
   */
  readonly statistics?: StatisticsFunction;
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

function digestOf(w: Float32Array): string {
  // update() reads the bytes synchronously, so a valuesView is safe here.
  return createHash('sha1')
    .update(new Uint8Array(w.buffer, w.byteOffset, w.byteLength))
    .digest('hex');
}

/** The pruner's `info` of every call (one per block when sequential), objects merged per key. */
function mergeInfos(infos: readonly Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const info of infos) {
    for (const [k, v] of Object.entries(info)) {
      const prev = out[k];
      out[k] = isObject(prev) && isObject(v) ? { ...prev, ...v } : v;
    }
  }
  return out;
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
    const selectedAtDensity = selectLayers(available, target.layers, target.density, {
      path: `stages.${ctx.stageId}.with.layers`,
      stageId: ctx.stageId,
      log: ctx.log,
    });
    if (target.rule.pattern !== undefined) {
      for (const s of selectedAtDensity)
        checkPatternFits(target.rule.pattern, s.info.fanIn, s.info.name);
    }
    // `layerDensities: owl`: per-layer densities from the dense weights and calibration norms,
    // decided once before any block is pruned (as OWL does), instead of the uniform ones.
    const owl =
      owlSpecOf(ctx.params) !== undefined
        ? await resolveLayerDensities({
            ctx,
            pruner: pruner.name,
            target,
            selected: selectedAtDensity,
            weights: new Map(
              selectedAtDensity.map((s) => [s.info.name, model.readWeight(s.info.name)]),
            ),
            calibration: inputs.calibration,
          })
        : undefined;
    const selected =
      owl === undefined
        ? selectedAtDensity
        : selectedAtDensity.map((s) => ({
            ...s,
            density: owl.densities.get(s.info.name) ?? s.density,
          }));
    const plan = planPrune(pruner, selected, inputs.calibration, target.rule, {
      stageId: ctx.stageId,
      ...(inputs.calibrationStage !== undefined
        ? { calibrationStage: inputs.calibrationStage }
        : {}),
    });
    // Statistics recomputed per block need not be in the artifact.
    inputs.checkCalibrationCovers(
      selected.map((s) => s.info.name),
      plan.sequential !== undefined ? ['meanGradient'] : undefined,
    );

    // A digest of every kernel's storage instead of a copy (a copy of an LLM's weights would
    // double its memory): the pruner must leave args.model as it found it, and we check that
    // it did. The digest reads the variable in place (valuesView), so checking copies nothing.
    const storedDigest = (name: string): string => digestOf(valuesView(model.weightVariable(name)));
    const expected = new Map(available.map((l) => [l.name, storedDigest(l.name)]));
    const brokeContract = (name: string): ScalpelError =>
      new ScalpelError(
        ErrorCode.Stage,
        `pruner '${pruner.name}' (plugin '${plugin}') broke the pruner contract: it changed the weights of ${selectedNames.has(name) ? '' : 'unselected '}layer '${name}' in the model`,
        {
          stageId: ctx.stageId,
          plugin,
          layer: name,
          hint: selectedNames.has(name)
            ? 'a pruner returns masks (and, with reconstructsWeights: true, new weights); it must not write into args.model'
            : 'layers outside args.layers must stay untouched',
        },
      );
    const checkUnchanged = (name: string): void => {
      if (storedDigest(name) !== expected.get(name)) throw brokeContract(name);
    };
    // Kernel copies come from (and go back to) a pool: one block's copies serve the next block.
    const kernels = new ArrayScratch<Float32Array>((n) => new Float32Array(n));
    const operatorOf = new Map(available.map((l) => [l.name, l]));
    const readUnchanged = (name: string): Float32Array => {
      checkUnchanged(name);
      const info = operatorOf.get(name);
      if (info === undefined) return model.readWeight(name);
      return readKernelInto(model, name, info, kernels.take(info.fanIn * info.units));
    };
    const selectedNames = new Set(selected.map((s) => s.info.name));
    // The masks the model came with (an earlier prune): what they pruned stays pruned.
    const incomingMasks = new Map(model.masks);
    const incomingOf = (info: PrunableLayerInfo): Mask | undefined => {
      const m = incomingMasks.get(info.name);
      return m?.length === info.paramCount ? m : undefined;
    };
    let restored = 0;

    const perLayer: Record<string, LayerPruneMetrics> = {};
    const infos: Record<string, unknown>[] = [];
    let kept = 0;
    let size = 0;
    let timeMs = 0;
    let statisticsMs = 0;
    let leaked = 0;
    const sequential = plan.sequential;
    const scratch = new ArrayScratch<Float64Array>((n) => new Float64Array(n));
    const finishedMasks = plan.units.length > 1 ? new Map<string, PackedMask>() : undefined;
    const blocks =
      sequential !== undefined
        ? ctx.progress(`${ctx.stageId}: blocks`, plan.units.length)
        : undefined;
    for (const unit of plan.units) {
      ctx.signal.throwIfAborted();
      const layers: LayerToPrune[] = unit.map((s) => {
        const incoming = incomingOf(s.info);
        return {
          info: s.info,
          // The pruner's own copy: scribbling on it cannot corrupt what we apply.
          weights: readUnchanged(s.info.name),
          density: s.density,
          ...(incoming !== undefined ? { incoming } : {}),
        };
      });
      let calibration = inputs.calibration;
      if (sequential !== undefined && inputs.calibration !== undefined) {
        const t0 = performance.now();
        calibration = await unitCalibration(model, pruner, unit, inputs.calibration, sequential, {
          signal: ctx.signal,
          scratch,
          ...(options.statistics !== undefined ? { statistics: options.statistics } : {}),
        });
        statisticsMs += performance.now() - t0;
      }

      const tensorsBefore = tf.memory().numTensors;
      const started = performance.now();
      let result: unknown;
      try {
        result = await pruner.prune({
          model,
          layers,
          calibration,
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
          { stageId: ctx.stageId, plugin },
        );
      }
      timeMs += performance.now() - started;
      leaked += tf.memory().numTensors - tensorsBefore;

      const checked = checkPruneResult(
        result,
        layers,
        target.rule,
        pruner.reconstructsWeights === true,
        who,
      );
      // Apply: the (reconstructed or original) kernel with pruned weights set to exactly 0, so
      // that the next block's statistics see this block pruned.
      for (const layer of layers) {
        const name = layer.info.name;
        const reconstructed = checked.weights?.get(name);
        let mask = checked.masks.get(name) as Mask;
        const incoming = layer.incoming;
        if (incoming !== undefined && !isWithin(mask, incoming)) {
          const r = keepIncomingPruned(
            mask,
            incoming,
            reconstructed ?? model.readWeight(name),
            layer.info,
            target.rule,
            { stageId: ctx.stageId, layer: name },
          );
          mask = r.mask;
          restored += r.restored;
        }
        if (reconstructed !== undefined) checkUnchanged(name);
        // The pruner's arrays stay as it returned them: a reconstruction already 0 wherever the
        // mask prunes (SparseGPT's) is written as it is, anything else through a zeroed copy.
        const w =
          reconstructed !== undefined && zeroWherePruned(reconstructed, mask)
            ? reconstructed
            : zeroPruned(
                reconstructed !== undefined
                  ? Float32Array.from(reconstructed)
                  : readUnchanged(name),
                mask,
              );
        model.writeWeight(name, w);
        kernels.giveBack([w]);
        expected.set(name, storedDigest(name));
        // Block by block, a finished block's masks wait as bits (packed-mask.ts) until the
        // artifact is written; the forward of later blocks reads weights, never masks.
        if (finishedMasks !== undefined) {
          model.masks.delete(name);
          finishedMasks.set(name, packMask(mask));
        } else model.masks.set(name, mask);
        const k = countKept(mask);
        perLayer[name] = { density: k / mask.length, kept: k, size: mask.length };
        kept += k;
        size += mask.length;
      }
      if (calibration !== inputs.calibration && calibration !== undefined)
        scratch.giveBack([...calibration.layers.values()].map((c) => c.gram));
      // Applied (writeWeight copied them into the model): the kernels the pruner got, and the
      // reconstructions it returned (SparseGPT writes them into the former), are free again.
      kernels.giveBack(layers.map((l) => l.weights));
      kernels.giveBack(checked.weights?.values() ?? []);
      const info = (result as { info?: unknown }).info;
      if (isObject(info)) infos.push(info);
      const first = layers[0];
      blocks?.tick(1, first !== undefined ? { block: blockOf(first.info) } : {});
    }
    blocks?.done();
    // Nothing outside what we applied may have changed (a pruner writing into a block it was
    // not given, or into an unselected layer).
    for (const l of available) checkUnchanged(l.name);
    if (leaked > 0) {
      ctx.log.warn(
        `pruner '${pruner.name}' (plugin '${plugin}') left ${leaked} tfjs tensor(s) undisposed`,
        { leaked },
      );
    }

    if (restored > 0) {
      ctx.log.warn(
        `pruner '${pruner.name}' kept ${restored} weight(s) the input model had pruned; they stay pruned and the largest-magnitude weights it left were kept instead (same counts)`,
        { restored },
      );
    }
    for (const [name, packed] of finishedMasks ?? []) model.masks.set(name, unpackMask(packed));
    const manifest = await writeModelArtifact(ctx.outDir, model, ctx.registry);

    const density = size > 0 ? kept / size : 0;
    ctx.log.info(
      `${pruner.name}: kept ${(100 * density).toFixed(2)}% of ${size.toLocaleString('en-US')} weights in ${selected.length} layer(s) (${(timeMs / 1000).toFixed(2)} s${sequential !== undefined ? `; sequential over ${plan.units.length} block(s), statistics ${(statisticsMs / 1000).toFixed(2)} s` : ''})`,
    );
    const infoObject = mergeInfos(infos);
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
        ...(target.rule.pattern !== undefined
          ? { pattern: `${target.rule.pattern.keep}:${target.rule.pattern.of}` }
          : {}),
        kept,
        size,
        layers: perLayer,
        ...(owl !== undefined ? { layerDensities: owl.info } : {}),
        timeMs,
        ...(sequential !== undefined
          ? { sequential: { blocks: plan.units.length, statisticsMs } }
          : {}),
        ...(leaked > 0 ? { leakedTensors: leaked } : {}),
        ...(incomingMasks.size > 0
          ? { roundStart: { maskedLayers: incomingMasks.size, restored } }
          : {}),
      },
    };
  } finally {
    model.dispose();
  }
}

function zeroWherePruned(w: Float32Array, mask: Mask): boolean {
  for (let j = 0; j < w.length; j++) if (mask[j] === 0 && !Object.is(w[j], 0)) return false;
  return true;
}

/** `w` with every weight the mask prunes set to +0, in place. */
function zeroPruned(w: Float32Array, mask: Mask): Float32Array {
  for (let j = 0; j < w.length; j++) if (mask[j] === 0) w[j] = 0;
  return w;
}

/**
 * Operator `name`'s kernel as row-major [fanIn, units], written into `out` straight from its
 * variable's storage (what readWeight returns, without the family's fresh arrays).
 */
function readKernelInto(
  model: PrunableModel,
  name: string,
  info: { fanIn: number; units: number },
  out: Float32Array,
): Float32Array {
  const view = valuesView(model.weightVariable(name));
  if (view.length !== out.length) return model.readWeight(name);
  if (model.weightLayout(name) === 'same') {
    out.set(view);
    return out;
  }
  // 'transposed': the variable is [units, fanIn].
  const { fanIn, units } = info;
  for (let u = 0; u < units; u++) {
    const row = u * fanIn;
    for (let i = 0; i < fanIn; i++) out[i * units + u] = view[row + i] as number;
  }
  return out;
}
