// Property: whatever a user (or a random mutation) writes, loading and validating a recipe
// either succeeds or throws a ScalpelError — never a TypeError, a yaml/ajv exception or a hang.
import { registryWithFamilies } from '../helpers/models.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { validateRecipe } from '../../src/recipe/load-recipe.js';
import { parseRecipeYaml } from '../../src/recipe/parse-yaml.js';
import { ScalpelError } from '../../src/errors.js';
import { tempDir } from '../helpers/paths.js';
import { goodRecipe, testStagesPlugin, writeRecipe } from './recipe-helpers.js';

const goodText = readFileSync(goodRecipe, 'utf8').replace(
  '../plugins/test-stages.js',
  JSON.stringify(testStagesPlugin),
);
const goodJson = parseRecipeYaml(goodRecipe, goodText).toJSON() as Record<string, unknown>;
const dir = tempDir('scalpel-fuzz-');
let counter = 0;
// Stage types come from the test plugin; an empty base keeps this independent of the built-ins.
const base = registryWithFamilies();

async function onlyScalpelErrors(text: string, set: string[] = []): Promise<void> {
  const file = writeRecipe(text, `r${counter++}.yaml`, dir);
  try {
    await validateRecipe(file, { set, registry: base });
  } catch (e) {
    if (!(e instanceof ScalpelError)) {
      throw new Error(
        `non-ScalpelError for:\n${text}\n--set ${set.join(' ')}\n${e instanceof Error ? e.stack : String(e)}`,
      );
    }
    assert.ok(e.format().length > 0);
    if (e.location?.line !== undefined)
      assert.equal(e.location.file, file, 'positions refer to the recipe');
  }
}

type Json = unknown;
type PathSeg = string | number;

/** All paths into a JSON value. */
function pathsOf(v: Json, prefix: PathSeg[] = []): PathSeg[][] {
  const out: PathSeg[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...pathsOf(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) out.push(...pathsOf(x, [...prefix, k]));
  }
  return out;
}

type Mutation = { kind: 'delete' | 'replace' | 'insert'; at: number; key: string; value: Json };

function mutate(root: Json, m: Mutation): Json {
  const copy = structuredClone(root);
  const paths = pathsOf(copy);
  const path = paths[m.at % paths.length] ?? [];
  if (path.length === 0) return m.kind === 'replace' ? m.value : copy;
  let parent: unknown = copy;
  for (const seg of path.slice(0, -1)) parent = (parent as Record<PathSeg, unknown>)[seg];
  const last = path[path.length - 1] as PathSeg;
  const target = parent as Record<PathSeg, unknown>;
  if (m.kind === 'delete') {
    if (Array.isArray(target)) target.splice(Number(last), 1);
    else delete target[last];
  } else if (m.kind === 'replace') {
    target[last] = m.value;
  } else {
    const node = target[last];
    if (node !== null && typeof node === 'object' && !Array.isArray(node))
      (node as Record<string, unknown>)[m.key] = m.value;
    else target[last] = { [m.key]: m.value };
  }
  return copy;
}

const mutation = fc.record({
  kind: fc.constantFrom('delete' as const, 'replace' as const, 'insert' as const),
  at: fc.nat(),
  key: fc.oneof(
    fc.constantFrom('uses', 'needs', 'with', 'density', 'stages', '__proto__', 'constructor'),
    fc.string({ maxLength: 8 }),
  ),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      'test-prune',
      'model',
      ['model', 'data'],
      { uses: 'sa' },
      -1,
      0,
      1e309,
      '',
      null,
    ),
  ),
});

describe('recipe loading never throws anything but ScalpelError (fast-check)', function () {
  this.timeout(60000);

  it('the unmutated recipe loads', async function () {
    await validateRecipe(writeRecipe(goodText, 'good.yaml', dir), { registry: base });
  });

  it('structural mutations (delete keys, change types, insert garbage keys)', async function () {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (ms) => {
        let json: Json = goodJson;
        for (const m of ms) json = mutate(json, m);
        await onlyScalpelErrors(stringify(json));
      }),
      { numRuns: 80, seed: 1 },
    );
  });

  it('text mutations (characters deleted, inserted, lines swapped)', async function () {
    const lines = goodText.split('\n');
    await fc.assert(
      fc.asyncProperty(
        fc.nat(goodText.length),
        fc.nat(40),
        fc.string({
          maxLength: 6,
          unit: fc.constantFrom(
            ':',
            ' ',
            '\t',
            '-',
            '[',
            ']',
            '{',
            '}',
            '"',
            "'",
            '#',
            '&',
            '*',
            '!',
            '|',
            '>',
            '\n',
            'a',
            '0',
          ),
        }),
        fc.nat(lines.length - 1),
        fc.nat(lines.length - 1),
        async (pos, del, ins, a, b) => {
          const cut = goodText.slice(0, pos) + ins + goodText.slice(pos + del);
          const swapped = [...lines];
          [swapped[a], swapped[b]] = [swapped[b] ?? '', swapped[a] ?? ''];
          await onlyScalpelErrors(cut);
          await onlyScalpelErrors(swapped.join('\n'));
        },
      ),
      { numRuns: 50, seed: 2 },
    );
  });

  it('random text and random --set overrides', async function () {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 80 }),
        fc.array(
          fc
            .tuple(
              fc.constantFrom(
                'stages.prune.with.density',
                'stages.prune.needs',
                'stages',
                'version',
                'plugins.0',
                'stages.prune.with.layers.include.3',
                '',
                'a..b',
                'stages.model',
              ),
              fc.string({ maxLength: 12 }),
            )
            .map(([p, v]) => `${p}=${v}`),
          { maxLength: 3 },
        ),
        async (text, sets) => {
          await onlyScalpelErrors(text);
          await onlyScalpelErrors(goodText, sets);
        },
      ),
      { numRuns: 60, seed: 3 },
    );
  });
});
