// finetune's `gradual:` mode: prune while training, on TFMOT's polynomial schedule
// (pruning/polynomial-schedule.ts, pruning/gradual-magnitude.ts). This file turns the stage's
// params into the training loop's `remask` hook and, afterwards, the masks, manifest record and
// metrics of the result.
import { badStageParam } from '../error-factories.js';
import type { Mask } from '../plugin-api/layers.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { StageContext } from '../plugin-api/stage.js';
import { GradualMagnitude, type GradualGranularity } from '../pruning/gradual-magnitude.js';
import { selectLayers, type LayerSelectionSpec } from '../pruning/layer-selection.js';
import { countKept, globalKeepCount, keepCount } from '../pruning/select-mask.js';
import type { TrainingParams } from './training-params.js';

/** `with.gradual` after validation (schemas/stages/finetune.schema.json; defaults filled). */
export interface GradualParams {
  method: 'magnitude';
  initialSparsity: number;
  finalSparsity: number;
  beginStep: number;
  endStep: number;
  power: number;
  frequency: number;
  granularity: GradualGranularity;
  layers?: Pick<LayerSelectionSpec, 'include' | 'exclude'>;
}

export type FinetuneParams = TrainingParams & { gradual?: GradualParams };

export interface GradualRun {
  /** For runTraining: the training loop's remask hook, given the stage's total steps. */
  hook: (totalSteps: number) => (step: number) => ReadonlyMap<string, Uint8Array> | undefined;
  /** After training: put the final masks on the model; the metrics and manifest record. */
  finish: () => { metrics: Record<string, unknown>; pruning: Record<string, unknown> };
}

/** Set up gradual pruning of `model`, starting from `masks` (the masks it came with). */
export function gradualPruning(
  ctx: StageContext<FinetuneParams>,
  model: PrunableModel,
  masks: ReadonlyMap<string, Uint8Array>,
  g: GradualParams,
): GradualRun {
  const id = ctx.stageId;
  if (ctx.params.steps !== undefined) {
    throw badStageParam(
      id,
      'gradual',
      'gradual pruning runs with epochs, not with steps',
      'remove steps (train by epochs), or prune in a separate stage before fine-tuning',
    );
  }
  const finalDensity = 1 - g.finalSparsity;
  const selected = selectLayers(model.operators, g.layers ?? {}, finalDensity, {
    path: `stages.${id}.with.gradual.layers`,
    stageId: id,
    log: ctx.log,
  }).map((s) => s.info);
  const pruner = new GradualMagnitude(model, g, selected, masks);
  return {
    hook(totalSteps) {
      if (g.endStep > totalSteps) {
        throw badStageParam(
          id,
          'gradual.endStep',
          `${g.endStep} is beyond the ${totalSteps} optimizer steps this stage makes (epochs × ⌈samples / batchSize⌉), so the final sparsity would never be reached`,
          `set endStep to at most ${totalSteps}, or train for more epochs`,
        );
      }
      ctx.log.info(
        `gradual magnitude pruning of ${selected.length} layer(s): sparsity ${g.initialSparsity} → ${g.finalSparsity} over steps ${g.beginStep}…${g.endStep} (power ${g.power}, every ${g.frequency} steps)`,
      );
      return (step) => {
        const next = pruner.update(step);
        if (next === undefined) return undefined;
        const last = pruner.history[pruner.history.length - 1];
        if (last !== undefined) ctx.event('gradual-prune', { ...last });
        return new Map([...masks, ...next]);
      };
    },
    finish() {
      const keptTooFew = (what: string): never => {
        throw badStageParam(
          id,
          'gradual.finalSparsity',
          `${what}, fewer than finalSparsity ${g.finalSparsity} leaves: its input masks had pruned more already`,
          'the input model is pruned below this density already; lower finalSparsity or fine-tune the dense model',
        );
      };
      const final = pruner.current();
      const layers: Record<string, { density: number; kept: number; size: number }> = {};
      let kept = 0;
      let size = 0;
      for (const info of selected) {
        const mask = final.get(info.name) as Mask;
        const k = countKept(mask);
        // The schedule ends at endStep ≤ the last step: every layer must be at the final density.
        if (g.granularity === 'layer' && k !== keepCount(finalDensity, mask.length))
          keptTooFew(
            `layer '${info.name}' keeps ${k} of ${mask.length} weights (target ${keepCount(finalDensity, mask.length)})`,
          );
        model.masks.set(info.name, mask);
        layers[info.name] = { density: k / mask.length, kept: k, size: mask.length };
        kept += k;
        size += mask.length;
      }
      const budget = globalKeepCount(
        selected.map((l) => ({ density: finalDensity, size: l.paramCount })),
      );
      if (g.granularity === 'global' && kept !== budget)
        keptTooFew(`the selected layers keep ${kept} of ${size} weights (budget ${budget})`);
      const schedule = {
        initialSparsity: g.initialSparsity,
        finalSparsity: g.finalSparsity,
        beginStep: g.beginStep,
        endStep: g.endStep,
        power: g.power,
        frequency: g.frequency,
        granularity: g.granularity,
      };
      return {
        // `method` and `density` make the stage a pruning stage for compare (report/collect.ts).
        metrics: {
          method: 'gradual-magnitude',
          density: size > 0 ? kept / size : 0,
          targetDensity: finalDensity,
          kept,
          size,
          layers,
          gradual: { ...schedule, updates: pruner.history },
        },
        pruning: { method: 'gradual-magnitude', schedule },
      };
    },
  };
}
