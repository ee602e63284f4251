// Example pruner plugin (docs/plugins.md walks through it): "soft magnitude" keeps a random subset
// of weights, drawn without replacement with probability ∝ |w|^(1/temperature) — magnitude pruning
// at temperature → 0, random pruning at temperature → ∞. Gumbel top-k: adding Gumbel noise to
// log|w|/T and keeping the k largest draws exactly such a sample.
//
// In your own project, import from 'scalpel' instead of '../../src/index.js'.
import { definePlugin, definePruner, masksFromScores } from '../../src/index.js';
import type { Granularity } from '../../src/index.js';

// A type alias (not an interface), so it fits the plugin's Pruner list.
export type SoftMagnitudeParams = {
  temperature: number;
  granularity: Granularity;
};

export const softMagnitude = definePruner<SoftMagnitudeParams>({
  name: 'soft-magnitude',
  version: '1',
  description: 'Sample the kept weights with probability ∝ |w|^(1/temperature) (seeded)',
  // The pruner's own parameters only: the prune stage adds method, density and layers.
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      temperature: {
        description: 'Sampling temperature: small → magnitude pruning, large → random pruning.',
        type: 'number',
        exclusiveMinimum: 0,
        default: 1,
      },
      granularity: {
        description: 'Where the kept count is fixed: layer, per-output, per-input or global.',
        enum: ['layer', 'per-output', 'per-input', 'global'],
        default: 'layer',
      },
    },
  },
  // No calibration needed; a pruner that wants statistics declares e.g. { inputNorms: true }.
  prune({ layers, params, rng }) {
    // Synchronous work, but a failure still comes back as a rejection, as from an async pruner.
    return new Promise((resolve) => {
      const scores = (layer: (typeof layers)[number]): Float64Array => {
        const r = rng.fork(layer.info.name); // per-layer stream: independent of the other layers
        const s = new Float64Array(layer.weights.length);
        for (let j = 0; j < s.length; j++) {
          const gumbel = -Math.log(-Math.log(r.float() || Number.MIN_VALUE));
          s[j] = Math.log(Math.abs(layer.weights[j] as number)) / params.temperature + gumbel;
        }
        return s;
      };
      resolve({ masks: masksFromScores(layers, scores, { granularity: params.granularity }) });
    });
  },
});

export default definePlugin({ name: 'example-soft-magnitude', pruners: [softMagnitude] });
