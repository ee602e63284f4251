// The model families scalpel ships (registered in registry/builtins.ts; plugins add more).
import { ErrorCode, ScalpelError } from '../errors.js';
import type { ModelFamily } from '../plugin-api/model.js';
import type { FamilyLookup } from './model-artifact.js';
import { hfCausalLmFamily } from './hf/family.js';
import { tfjsLayersFamily } from './tfjs-layers/family.js';

export const builtinFamilies: readonly ModelFamily[] = [tfjsLayersFamily, hfCausalLmFamily];

/** The built-in families by name, for code that reads artifacts without a registry (tools, tests). */
export const builtinFamilyLookup: FamilyLookup = {
  family(name) {
    const found = builtinFamilies.find((f) => f.name === name);
    if (found === undefined) {
      throw new ScalpelError(ErrorCode.UnknownName, `unknown model family '${name}'`, {
        hint: `built-in families: ${builtinFamilies.map((f) => f.name).join(', ')}; families from plugins need the recipe's registry`,
      });
    }
    return found;
  },
};
