// The model families scalpel ships (registered in registry/builtins.ts; plugins add more).
import { unknownName } from '../error-factories.js';
import type { ModelFamily } from '../plugin-api/model.js';
import type { FamilyLookup } from './model-artifact.js';
import { hfCausalLmFamily } from './hf/family.js';
import { hfImageClassifierFamily } from './hf/image-family.js';
import { tfjsLayersFamily } from './tfjs-layers/family.js';

export const builtinFamilies: readonly ModelFamily[] = [
  tfjsLayersFamily,
  hfImageClassifierFamily,
  hfCausalLmFamily,
];

/** The built-in families by name, for code that reads artifacts without a registry (tools, tests). */
export const builtinFamilyLookup: FamilyLookup = {
  family(name) {
    const found = builtinFamilies.find((f) => f.name === name);
    if (found === undefined) {
      throw unknownName(
        'model family',
        name,
        builtinFamilies.map((f) => f.name),
        { moreHint: "families from plugins need the recipe's registry" },
      );
    }
    return found;
  },
};
