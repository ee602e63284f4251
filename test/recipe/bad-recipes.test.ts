// Every folder in test/fixtures/bad-recipes is a mistake users make; each must fail with the
// expected code, at the expected line/column, with a message (and hint) saying what is wrong.
import { registryWithFamilies } from '../helpers/models.js';
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { validateRecipe } from '../../src/recipe/load-recipe.js';
import { ScalpelError } from '../../src/errors.js';
import { builtinRegistry } from '../../src/registry/builtins.js';
import { badRecipeCases, prepareCase } from './bad-recipe-cases.js';

describe('bad recipes (test/fixtures/bad-recipes)', function () {
  const cases = badRecipeCases();
  // An empty base registry: the fixtures bring their stage types as plugins, so these tests do not
  // depend on the built-in stages (the CLI tests run the same folders with the built-ins).
  const base = registryWithFamilies();

  it('has at least 22 distinct cases', function () {
    assert.ok(cases.length >= 22, `only ${cases.length} cases`);
  });

  for (const c of cases) {
    it(`${c.name}: ${c.expected.code} "${c.expected.message}"`, async function () {
      const prepared = prepareCase(c);
      if ('skip' in prepared) {
        console.log(`      (skipped ${c.name}: ${prepared.skip})`);
        this.skip();
      }
      let error: unknown;
      try {
        const registry = c.expected.builtins === true ? await builtinRegistry() : base;
        await validateRecipe(prepared.file, { set: c.expected.set ?? [], registry });
      } catch (e) {
        error = e;
      }
      assert.ok(error !== undefined, 'expected an error, but the recipe was accepted');
      assert.ok(error instanceof ScalpelError, `expected a ScalpelError, got ${String(error)}`);
      assert.equal(error.code, c.expected.code, error.format());
      assert.ok(
        error.message.includes(c.expected.message),
        `message ${JSON.stringify(error.message)} does not contain ${JSON.stringify(c.expected.message)}`,
      );
      if (c.expected.hint !== undefined) {
        assert.ok(
          error.hint?.includes(c.expected.hint),
          `hint ${JSON.stringify(error.hint)} does not contain ${JSON.stringify(c.expected.hint)}`,
        );
      }
      assert.equal(error.location?.line ?? null, c.expected.line, `line: ${error.format()}`);
      assert.equal(error.location?.col ?? null, c.expected.col, `col: ${error.format()}`);
      if (c.expected.line !== null) {
        // Positions always refer to the recipe file itself (compared as real paths: the temp
        // directory of a prepared case may sit behind a symlink).
        const located = error.location?.file;
        assert.ok(located !== undefined, `a position without a file: ${error.format()}`);
        assert.equal(realpathSync(resolve(located)), realpathSync(prepared.file));
      }
    });
  }
});
