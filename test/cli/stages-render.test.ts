// The parameter table of `scalpel stages <name>`: a table when it fits the terminal, one block per
// parameter (description wrapped) when it does not.
import { strict as assert } from 'node:assert';
import { renderParams } from '../../src/cli/commands/stages.js';
import { describeParams } from '../../src/cli/schema-params.js';
import { icbsStageSchema } from '../../src/icbs/schema.js';

describe('stages: parameter rendering', () => {
  const params = describeParams(icbsStageSchema());

  it('piped output (no width) is the table, one line per parameter', () => {
    const text = renderParams(params);
    assert.equal(text.split('\n').length, params.length + 1);
    assert.match(text, /^\s+name\s+type\s+default\s+description$/m);
  });

  it('wider than the terminal: blocks that fit the width and keep every word', () => {
    for (const width of [80, 120]) {
      const text = renderParams(params, width);
      const lines = text.split('\n');
      const descriptionLines = lines.filter((l) => l.startsWith('      '));
      for (const l of descriptionLines)
        assert.ok([...l].length <= width, `${[...l].length} > ${width}: ${l}`);
      assert.match(text, /^ {2}blockSize {2}integer ≥ 2 {2}default 1024$/m);
      assert.match(text, /^ {2}solver\.uses {2}.*\(required\)$/m);
      for (const p of params) {
        const words = p.description.split(/\s+/).filter((w) => w !== '');
        const block = text.slice(text.indexOf(`  ${p.name}  `));
        for (const w of words.slice(0, 5)) assert.ok(block.includes(w), `${p.name}: '${w}' kept`);
      }
    }
  });

  it('a table that fits stays a table', () => {
    const small = params.filter((p) => p.name === 'steps' || p.name === 'epochs');
    assert.equal(renderParams(small, 400), renderParams(small));
  });
});
