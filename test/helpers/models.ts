// Small helpers for tests that build tfjs LayersModels by hand and hand them to code that sees
// models through the family contract.
import type * as tfl from '@tensorflow/tfjs-layers';
import { TfjsLayersModel } from '../../src/models/tfjs-layers/layers-model.js';
import { Registry } from '../../src/registry/registry.js';
import { builtinFamilies } from '../../src/models/families.js';
import type { OutputKind } from '../../src/models/loss.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import type { PrunableLayerInfo } from '../../src/plugin-api/layers.js';

/** The model through the tfjs-layers family (shares the LayersModel's variables). */
export function asPrunable(model: tfl.LayersModel): TfjsLayersModel {
  return new TfjsLayersModel(model);
}

/** 'probabilities' when the model's last layer applies softmax (test-side, independent of the task). */
export function outputKindOf(model: tfl.LayersModel): OutputKind {
  const last = model.layers[model.layers.length - 1];
  return (last?.getConfig() as { activation?: unknown } | undefined)?.activation === 'softmax'
    ? 'probabilities'
    : 'logits';
}

type AnyModel = tfl.LayersModel | PrunableModel;

function prunable(model: AnyModel): PrunableModel {
  return 'task' in model ? model : asPrunable(model);
}

/** The prunable operators of a tfjs model or a PrunableModel. */
export function listPrunableLayers(model: AnyModel): PrunableLayerInfo[] {
  return [...prunable(model).operators];
}

/** A copy of the operator's weight in the [fanIn, units] view. */
export function readKernel(model: AnyModel, name: string): Float32Array {
  return prunable(model).readWeight(name);
}

export function writeKernel(model: AnyModel, name: string, data: Float32Array): void {
  prunable(model).writeWeight(name, data);
}

/** Zero the pruned weights of every masked operator (mask 1 = keep). */
export function applyMasks(model: AnyModel, masks: ReadonlyMap<string, Uint8Array>): void {
  const m = prunable(model);
  for (const [name, mask] of masks) {
    const w = m.readWeight(name);
    for (let i = 0; i < w.length; i++) if (mask[i] === 0) w[i] = 0;
    m.writeWeight(name, w);
  }
}

/** The tfjs LayersModel behind a model read from a tfjs-layers artifact. */
export function layersModelOf(model: PrunableModel): tfl.LayersModel {
  if (!(model instanceof TfjsLayersModel))
    throw new Error(`not a tfjs-layers model: ${model.family}`);
  return model.layersModel;
}

/** An empty registry that knows the built-in model families (what stages that read models need). */
export function registryWithFamilies(): Registry {
  const registry = new Registry();
  registry.registerAll({ families: builtinFamilies }, 'builtin');
  return registry;
}
