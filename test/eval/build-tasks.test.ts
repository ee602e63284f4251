// The task builders on hand-written held-out documents: determinism, every text taken from the
// given documents, the true answer among the choices exactly once, the LAMBADA-style target
// earlier in its context, next-sentence distractors from other documents; and the jsonl round trip.
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildLambadaStyleTask,
  buildNextSentenceTask,
  type BuiltExample,
  type TextDocument,
} from '../../src/eval/build-tasks.js';
import {
  readMultipleChoiceJsonl,
  writeMultipleChoiceJsonl,
} from '../../src/eval/multiple-choice-jsonl.js';
import { tempDir } from '../helpers/paths.js';
import { thrown } from './fixtures.js';

const docs: TextDocument[] = [
  {
    id: 'anna',
    text: `Anna kept a small garden behind the old house. Every morning she carried water to the garden.
Her brother Tom preferred the river. He fished there with an old rod from the house.

One day the roses in the garden were gone. Anna found red petals near the river. She asked Tom
about the roses. Tom said a goat had eaten the roses. Anna did not believe the story about the
goat. She followed the petals back to the river.`,
  },
  {
    id: 'ship',
    text: `The ship left the harbour at dawn. Captain Reyes stood at the wheel of the ship. The sea was
calm and grey. By noon the wind rose over the sea. The sailors tied down every sail. Reyes told
them the storm would pass. Nobody on deck believed the captain. At night the storm broke over the
ship. Waves washed across the deck. In the morning the sea was calm again.`,
  },
  {
    id: 'market',
    text: `The market opened early on Saturday. Lena sold bread from a wooden cart. A baker across the
square sold bread too. Customers compared the two carts. Most of them liked the bread from the cart
of Lena. The baker lowered his prices at noon. Lena kept her prices and her customers. By evening
the baker had no customers left at the market. He walked over and bought bread from Lena. They
laughed about the market.`,
  },
  {
    id: 'winter',
    text: `Snow fell on the village for three days. The children built a fort of snow. Their parents
shovelled paths to the well. The old well had frozen in the night. Marta broke the ice with a
hammer. Water rose slowly in the well. The children carried buckets past the fort. At dusk the snow
stopped. Lights came on in every window of the village. Marta hung the hammer by the door.`,
  },
];

const norm = (s: string): string => s.replace(/\s+/g, ' ').trim();
const textOf = new Map(docs.map((d) => [d.id, norm(d.text)]));
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const hasWord = (text: string, word: string): boolean =>
  new RegExp(`(^|[^\\p{L}])${escape(word)}([^\\p{L}]|$)`, 'iu').test(text);

/** Checks every builder shares: provenance of all texts and the truth exactly once. */
function checkCommon(examples: BuiltExample[]): void {
  assert.ok(examples.length > 0);
  for (const ex of examples) {
    const source = textOf.get(ex.document) as string;
    assert.ok(source.includes(ex.context), `${ex.id}: context is not text of ${ex.document}`);
    // The correct choice continues the context in its document.
    assert.ok(
      source.includes(ex.context + (ex.choices[ex.label] as string)),
      `${ex.id}: the label's choice does not follow the context`,
    );
    assert.equal(ex.choices.length, 4);
    assert.equal(
      ex.choices.filter((c) => c === ex.choices[ex.label]).length,
      1,
      `${ex.id}: truth not unique`,
    );
    assert.equal(
      new Set(ex.choices.map((c) => c.toLowerCase())).size,
      4,
      `${ex.id}: duplicate choices`,
    );
    ex.choices.forEach((c, i) => {
      assert.ok(
        c.startsWith(' ') && !c.startsWith('  '),
        `${ex.id}: choice ${i} needs one leading space`,
      );
      const from = textOf.get(ex.choiceDocuments[i] as string) as string;
      assert.ok(
        from.includes(c.trim()),
        `${ex.id}: choice ${i} is not text of ${ex.choiceDocuments[i]}`,
      );
    });
  }
  // Labels are placed at random, not always in one slot.
  assert.ok(new Set(examples.map((e) => e.label)).size > 1, 'every label in one position');
}

describe('eval: task builders from held-out documents', () => {
  it('LAMBADA-style: the last word of a passage, seen earlier in it; distractors are other words of the passage', () => {
    const examples = buildLambadaStyleTask(docs, { seed: 3 });
    checkCommon(examples);
    for (const ex of examples) {
      const target = (ex.choices[ex.label] as string).trim();
      assert.match(target, /^\p{L}{3,}$/u);
      assert.ok(hasWord(ex.context, target), `${ex.id}: '${target}' does not occur in its context`);
      const sentences = ex.context.split(/(?<=[.!?])\s/).length;
      assert.ok(sentences >= 3 && sentences <= 6, `${ex.id}: ${sentences} sentences`);
      ex.choices.forEach((c, i) => {
        assert.equal(ex.choiceDocuments[i], ex.document);
        if (i !== ex.label) {
          const w = c.trim();
          assert.ok(
            hasWord(ex.context, w),
            `${ex.id}: distractor '${w}' is not a word of the passage`,
          );
          assert.ok(w.length >= 3);
        }
      });
    }
  });

  it('next sentence: the true next sentence and distractor sentences of OTHER documents', () => {
    const examples = buildNextSentenceTask(docs, { seed: 3 });
    checkCommon(examples);
    for (const ex of examples) {
      assert.equal(ex.context.split(/(?<=[.!?])\s/).length, 3);
      ex.choices.forEach((c, i) => {
        if (i === ex.label) {
          assert.equal(ex.choiceDocuments[i], ex.document);
        } else {
          assert.notEqual(ex.choiceDocuments[i], ex.document);
          assert.ok(
            !(textOf.get(ex.document) as string).includes(c.trim()),
            `${ex.id}: distractor ${i} is also text of the source document`,
          );
        }
      });
    }
  });

  it('is deterministic given the seed, and the seed matters', () => {
    for (const build of [buildLambadaStyleTask, buildNextSentenceTask]) {
      const a = build(docs, { seed: 7 });
      assert.deepEqual(build(docs, { seed: 7 }), a);
      const b = build(docs, { seed: 8 });
      assert.notDeepEqual(
        b.map((e) => [e.id, e.choices]),
        a.map((e) => [e.id, e.choices]),
      );
    }
  });

  it('maxExamples keeps a seeded subset in build order', () => {
    const all = buildNextSentenceTask(docs, { seed: 1 });
    const some = buildNextSentenceTask(docs, { seed: 1, maxExamples: 3 });
    assert.ok(all.length > 3);
    assert.equal(some.length, 3);
    const at = some.map((e) => all.findIndex((x) => x.id === e.id));
    assert.deepEqual(
      at,
      [...at].sort((x, y) => x - y),
    );
    assert.ok(at.every((i) => i >= 0));
    assert.deepEqual(
      some,
      at.map((i) => all[i]),
    );
  });

  it('E_DATA for duplicate ids, a single document for next-sentence, or documents yielding nothing', async () => {
    const dup = await thrown(() =>
      buildLambadaStyleTask([docs[0] as TextDocument, docs[0] as TextDocument], { seed: 1 }),
    );
    assert.equal(dup.code, 'E_DATA');
    assert.match(dup.message, /two documents have the id 'anna'/);
    const one = await thrown(() => buildNextSentenceTask([docs[0] as TextDocument], { seed: 1 }));
    assert.equal(one.code, 'E_DATA');
    assert.match(one.message, /at least 2 documents/);
    const none = await thrown(() =>
      buildLambadaStyleTask([{ id: 'x', text: 'Too short. Really.' }], { seed: 1 }),
    );
    assert.equal(none.code, 'E_DATA');
    assert.match(none.message, /no example could be built from the 1 documents/);
  });

  it('written as jsonl, a built task reads back through the one task-file reader', async () => {
    const dir = tempDir('scalpel-tasks-');
    try {
      const examples = buildLambadaStyleTask(docs, { seed: 2 });
      const file = join(dir, 'lambada-style.jsonl');
      await writeMultipleChoiceJsonl(file, examples);
      assert.deepEqual(
        await readMultipleChoiceJsonl(file),
        examples.map(({ id, context, choices, label }) => ({ id, context, choices, label })),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
