// The step-mode training defaults the code applies (src/stages/step-training-defaults.ts) are the
// ones train's and finetune's schemas state in each parameter's description ("Default 0.999.",
// "(default 'validation')"): this fails when either side changes alone.
import assert from 'node:assert/strict';
import { stepTrainingDefaults } from '../../src/stages/step-training-defaults.js';
import { readSchema } from '../../src/util/schemas.js';

/** The value a description states as its default, as the JSON value it spells. */
function statedDefault(description: string): unknown {
  const m = /default:? ('[^']*'|-?[0-9.e-]+)/i.exec(description);
  if (m === null) return undefined;
  const v = m[1] as string;
  return v.startsWith("'") ? v.slice(1, -1) : Number(v.replace(/\.$/, ''));
}

describe('step-training defaults: code and schema descriptions agree', () => {
  for (const stage of ['train', 'finetune']) {
    it(`${stage}.schema.json states every default the code applies`, () => {
      const props = readSchema(`stages/${stage}.schema.json`).properties as Record<
        string,
        { description?: string }
      >;
      for (const [name, value] of Object.entries(stepTrainingDefaults)) {
        const description = props[name]?.description;
        assert.ok(description !== undefined, `${stage}: no parameter ${name}`);
        assert.equal(statedDefault(description), value, `${stage}.${name}: "${description}"`);
      }
    });
  }
});
