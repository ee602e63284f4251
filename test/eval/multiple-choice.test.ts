// Multiple-choice scoring against a direct computation in the test: each (context, choice) pair
// run alone (no batching, no padding) through model.forward, the choice tokens' log-softmax
// summed in float64. acc / acc_norm / greedy and their standard errors from those numbers.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { evaluateMultipleChoice } from '../../src/eval/multiple-choice.js';
import type { MultipleChoiceExample } from '../../src/eval/multiple-choice-types.js';
import { initBackend } from '../../src/models/backend.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import {
  charEncode,
  forwardLogits,
  isArgmax,
  logSoftmaxAt,
  thrown,
  tinyGpt2,
  tinyLlama,
  vocab,
} from './fixtures.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

interface Direct {
  ll: number;
  greedy: boolean;
  inputLength: number;
}

/** LL of `choice` after `context`, the sequence cut from the left to maxLength + 1 tokens. */
function direct(
  model: PrunableModel,
  context: number[],
  choice: string,
  maxLength: number,
): Direct {
  const cont = charEncode(choice);
  const whole = [...context, ...cont].slice(-(maxLength + 1));
  const input = whole.slice(0, -1);
  const logits = forwardLogits(model, [input]);
  let ll = 0;
  let greedy = true;
  cont.forEach((token, j) => {
    const at = (input.length - cont.length + j) * vocab;
    ll += logSoftmaxAt(logits, at, token);
    greedy &&= isArgmax(logits, at, token);
  });
  return { ll, greedy, inputLength: input.length };
}

const bytes = (s: string): number => new TextEncoder().encode(s).length;
const first = (xs: number[]): number => xs.indexOf(Math.max(...xs));

function stderr(xs: number[]): number {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  return Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1) / n);
}

// Lengths vary so that batches pad; the first context is longer than GPT-2's 12 positions.
const examples: MultipleChoiceExample[] = [
  {
    id: 'long',
    context: 'The cat sat quietly on the',
    choices: [' mat', ' hat', ' warm rug'],
    label: 0,
  },
  { context: 'Hi', choices: [' a', ' there', ' é'], label: 1 },
  { context: 'A dog', choices: [' barks', ' runs far', ' sleeps', ' x'], label: 2 },
  { context: 'Sun', choices: [' rises', ' sets'], label: 1 },
];

describe('eval: multiple-choice scoring by log-likelihood', () => {
  before(async () => {
    await initBackend('wasm');
  });

  for (const [name, make, maxLength] of [
    ['gpt2', tinyGpt2, 12],
    ['llama', tinyLlama, 32],
  ] as const) {
    it(`${name}: padded batches give every choice the LL of running it alone; acc, acc_norm, greedy and stderrs follow`, () => {
      const model = make();
      const before = tf.memory().numTensors;
      const r = evaluateMultipleChoice(
        model,
        { name: 'toy', examples },
        { encode: charEncode, batchSize: 3 },
      );
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      const acc: number[] = [];
      const accNorm: number[] = [];
      const greedy: number[] = [];
      let tokens = 0;
      examples.forEach((ex, e) => {
        const d = ex.choices.map((c) => direct(model, charEncode(ex.context), c, maxLength));
        const got = r.examples[e];
        assert.ok(got !== undefined);
        expectArraysClose(
          got.logLikelihoods,
          d.map((x) => x.ll),
          1e-4,
          `example ${e} log-likelihoods`,
        );
        d.forEach((x, c) => {
          assert.equal(got.greedy[c], x.greedy, `greedy of example ${e} choice ${c}`);
          tokens += x.inputLength;
        });
        const lls = d.map((x) => x.ll);
        const lengths = ex.choices.map(bytes);
        assert.deepEqual(got.lengths, lengths);
        acc.push(first(lls) === ex.label ? 1 : 0);
        accNorm.push(first(lls.map((ll, i) => ll / (lengths[i] as number))) === ex.label ? 1 : 0);
        greedy.push(d[ex.label]?.greedy === true ? 1 : 0);
      });
      assert.equal(r.examples[0]?.id, 'long');
      assert.equal(r.count, 4);
      assert.equal(r.pairs, 12);
      const cut = examples.flatMap((ex) =>
        ex.choices.filter((c) => ex.context.length + c.length > maxLength + 1),
      );
      assert.equal(r.truncated, cut.length);
      assert.ok(cut.length > 0, 'the test must truncate some pairs');
      assert.equal(r.tokens, tokens);
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      assert.equal(r.acc, mean(acc));
      assert.equal(r.accNorm, mean(accNorm));
      assert.equal(r.greedyAcc, mean(greedy));
      for (const [got, xs] of [
        [r.accStderr, acc],
        [r.accNormStderr, accNorm],
        [r.greedyAccStderr, greedy],
      ] as const) {
        const want = stderr(xs);
        assert.ok(
          Number.isNaN(want) ? Number.isNaN(got) : Math.abs(got - want) < 1e-12,
          `stderr ${got} vs ${want}`,
        );
      }
      assert.ok(r.tokensPerSecond > 0);
      model.dispose();
    });
  }

  it('acc and acc_norm differ when a long choice has the lower total but the higher per-byte LL', () => {
    const model = tinyGpt2(5);
    const context = 'ok';
    const shorts = [' a', ' b', ' c', ' d'];
    const longs = [' abcdefgh', ' hgfedcba', ' aaaaaaaa', ' zzzzzzzz', ' qwertyui'];
    let found: { s: string; l: string } | undefined;
    for (const s of shorts) {
      for (const l of longs) {
        const [ds, dl] = [
          direct(model, charEncode(context), s, 12).ll,
          direct(model, charEncode(context), l, 12).ll,
        ];
        if (found === undefined && ds > dl && dl / bytes(l) > ds / bytes(s)) found = { s, l };
      }
    }
    assert.ok(
      found !== undefined,
      'no short/long pair with opposite rankings among the candidates',
    );
    const pair = [found.s, found.l];
    const r = evaluateMultipleChoice(
      model,
      {
        name: 'lengths',
        examples: [
          { context, choices: pair, label: 1 },
          { context, choices: pair, label: 0 },
        ],
      },
      { encode: charEncode, batchSize: 4 },
    );
    assert.deepEqual(
      r.examples.map((e) => [e.prediction, e.predictionNorm]),
      [
        [0, 1],
        [0, 1],
      ],
    );
    assert.equal(r.acc, 0.5);
    assert.equal(r.accNorm, 0.5);
    // Scores 0,1 and 1,0: sample sd √0.5, / √2 → 0.5.
    assert.ok(Math.abs(r.accStderr - 0.5) < 1e-12);
    model.dispose();
  });

  it("acc_norm divides by UTF-8 bytes, or by code points with lengthUnit 'characters'", () => {
    const model = tinyGpt2();
    const ex = { context: 'Hi', choices: [' é', ' e€x'], label: 0 };
    const inBytes = evaluateMultipleChoice(
      model,
      { name: 't', examples: [ex] },
      { encode: charEncode, batchSize: 2 },
    );
    assert.deepEqual(inBytes.examples[0]?.lengths, [3, 6]);
    assert.ok(Number.isNaN(inBytes.accStderr), 'one example has no standard error');
    const inChars = evaluateMultipleChoice(
      model,
      { name: 't', examples: [ex] },
      { encode: charEncode, batchSize: 2, lengthUnit: 'characters' },
    );
    assert.deepEqual(inChars.examples[0]?.lengths, [2, 4]);
    model.dispose();
  });

  it('an empty context uses emptyContextToken, as the harness uses end-of-text; without it E_DATA', async () => {
    const model = tinyGpt2();
    const task = { name: 't', examples: [{ context: '', choices: [' a', ' bc'], label: 0 }] };
    const e = await thrown(() =>
      evaluateMultipleChoice(model, task, { encode: charEncode, batchSize: 2 }),
    );
    assert.equal(e.code, 'E_DATA');
    assert.match(e.message, /example 0: the context encodes to no tokens/);
    const r = evaluateMultipleChoice(model, task, {
      encode: charEncode,
      batchSize: 2,
      emptyContextToken: 7,
    });
    const want = direct(model, [7], ' bc', 12).ll;
    assert.ok(Math.abs((r.examples[0]?.logLikelihoods[1] as number) - want) < 1e-4);
    model.dispose();
  });

  it('rejects empty choices, choices longer than the model, bad labels and out-of-vocabulary ids (E_DATA)', async () => {
    const model = tinyGpt2();
    const run = (ex: MultipleChoiceExample, encode = charEncode): unknown =>
      evaluateMultipleChoice(model, { name: 't', examples: [ex] }, { encode, batchSize: 2 });
    const cases: [MultipleChoiceExample, RegExp, typeof charEncode?][] = [
      [
        { id: 'q7', context: 'a', choices: [' a', ''], label: 0 },
        /example 0 \('q7'\): choice 1 \(""\) encodes to no tokens/,
      ],
      [
        { context: 'a', choices: [' a', ' abcdefghijklm'], label: 0 },
        /choice 1 has 14 tokens, more than the model's 12 positions/,
      ],
      [{ context: 'a', choices: [' a', ' b'], label: 2 }, /label 2 does not index its 2 choices/],
      [
        { context: 'a', choices: [' a'], label: 0 },
        /encoded context: token 99/,
        (s) => [...s].map(() => 99),
      ],
    ];
    for (const [ex, pattern, encode] of cases) {
      const e = await thrown(() => run(ex, encode));
      assert.equal(e.code, 'E_DATA');
      assert.match(e.message, pattern);
    }
    model.dispose();
  });
});
