// What the tfjs-layers family cannot run, read from model.json's topology alone (no tfjs), so
// `validate` and `plan` report it before anything runs: several inputs or outputs (a branch that
// does not merge back), and prunable layers called more than once (shared weights).
import { ErrorCode, ScalpelError } from '../../errors.js';
import { kindByClass } from './operators.js';

interface LayerJson {
  class_name?: unknown;
  name?: unknown;
  config?: { name?: unknown; layers?: unknown };
  inbound_nodes?: unknown;
}

function asLayers(value: unknown): LayerJson[] {
  return Array.isArray(value)
    ? (value.filter((l) => l !== null && typeof l === 'object') as LayerJson[])
    : [];
}

function layerName(l: LayerJson): string {
  const n = l.name ?? l.config?.name;
  return typeof n === 'string' ? n : '?';
}

/** Throws E_DATA (naming the layer and the file) for a topology this family cannot run. */
export function checkTopology(modelTopology: unknown, file: string): void {
  const top = (modelTopology ?? {}) as {
    model_config?: unknown;
    class_name?: unknown;
    config?: unknown;
  };
  // Keras saves { model_config: {...} }; tfjs' own save puts the model config at the top.
  const model = (top.model_config ?? top) as {
    class_name?: unknown;
    config?: Record<string, unknown>;
  };
  const config = model.config ?? {};
  const fail = (message: string, layer: string, hint: string): never => {
    throw new ScalpelError(ErrorCode.Data, `${file}: ${message}`, { layer, hint });
  };
  if (model.class_name === 'Sequential') return;
  const outputs = Array.isArray(config.output_layers) ? (config.output_layers as unknown[]) : [];
  const inputs = Array.isArray(config.input_layers) ? (config.input_layers as unknown[]) : [];
  const first = (entry: unknown): string =>
    Array.isArray(entry) && typeof entry[0] === 'string' ? entry[0] : '?';
  if (outputs.length > 1) {
    fail(
      `the model branches into ${outputs.length} outputs (${outputs.map(first).join(', ')}); scalpel runs models with one output`,
      first(outputs[1]),
      'export a model with a single output (a classifier head); prune a multi-head model one head at a time',
    );
  }
  if (inputs.length > 1) {
    fail(
      `the model has ${inputs.length} inputs (${inputs.map(first).join(', ')}); scalpel runs models with one input`,
      first(inputs[1]),
      'export a model with a single input',
    );
  }
  for (const layer of asLayers(config.layers)) {
    const cls = typeof layer.class_name === 'string' ? layer.class_name : '';
    const calls = Array.isArray(layer.inbound_nodes) ? layer.inbound_nodes.length : 0;
    if (kindByClass[cls] !== undefined && calls > 1) {
      fail(
        `prunable layer '${layerName(layer)}' (${cls}) is called ${calls} times (shared weights)`,
        layerName(layer),
        'scalpel prunes layers that are called once; give each call its own layer',
      );
    }
  }
}
