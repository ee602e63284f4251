// A language model end to end through the real engine on wasm, at toy size: a BPE tokenizer
// trained on the training documents of a few State of the Union addresses, the tokenized dataset,
// a Llama-architecture model trained from scratch (steps mode, AdamW), evaluated by perplexity,
// the unigram baseline and the zero-shot tasks built from the held-out documents, and exported in
// Hugging Face layout with its tokenizer.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runRecipe } from '../../src/index.js';
import { readDatasetArtifact } from '../../src/data/dataset-artifact.js';
import { tempDir } from '../helpers/paths.js';

const recipe = `version: 1
name: lm-pipeline
seed: 3
backend: wasm
stages:
  tokenizer:
    uses: train-tokenizer
    with: { corpora: [sotu], maxDocuments: 24, split: { test: 0.25 }, vocabSize: 400 }
  data:
    uses: load-dataset
    needs: [tokenizer]
    with: { source: text, corpora: [sotu], maxDocuments: 24, split: { test: 0.25 }, seqLength: 48 }
  tasks:
    uses: build-lm-tasks
    with: { corpora: [sotu], maxDocuments: 24, split: { test: 0.25 }, examples: 12, maxChoiceWords: 8 }
  model:
    uses: train
    needs: [data]
    with:
      steps: 120
      batchSize: 8
      learningRate: 0.01
      warmupSteps: 4
      weightDecay: 0.1
      clipNorm: 1
      evaluateEvery: 60
      evaluateSamples: 8
      checkpointEvery: 50
      model:
        family: hf-causal-lm
        config: { model_type: llama, vocab_size: 400, hidden_size: 48, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1.0e-5 }
  eval:
    uses: evaluate
    needs: [model, data, tasks]
    with: { metrics: [perplexity, unigram, zero-shot, loss, size], split: test, batchSize: 8 }
  export: { uses: export, needs: [model], with: { format: hf, to: ./exported } }
`;

describe('a language model through every stage on wasm', function () {
  this.timeout(300_000);

  it('tokenizer → dataset → train (steps) → perplexity below the unigram baseline, zero-shot, HF export', async () => {
    const dir = tempDir('scalpel-lm-pipeline-');
    const file = join(dir, 'recipe.yaml');
    writeFileSync(file, recipe);
    const summary = await runRecipe(file, {
      cwd: dir,
      cacheDir: join(dir, '.scalpel'),
      quiet: true,
    });
    assert.deepEqual(
      summary.nodes
        .filter((n) => n.status !== 'ran')
        .map((n) => `${n.id}: ${n.error?.message ?? n.status}`),
      [],
    );
    const metrics = (id: string): Record<string, unknown> =>
      summary.nodes.find((n) => n.id === id)?.metrics ?? {};

    // The tokenizer saw the training documents only: as many as the dataset's train split has.
    const tok = metrics('tokenizer');
    const data = metrics('data') as { splits: Record<string, { documents: number }> };
    assert.equal(tok.trainingDocuments, data.splits.train?.documents);
    assert.equal(
      tok.heldOutDocuments,
      (data.splits.validation?.documents ?? 0) + (data.splits.test?.documents ?? 0),
    );

    const ev = metrics('eval') as {
      perplexity: number;
      loss: number;
      unigramPerplexity: number;
      tokens: number;
      bitsPerByte: number;
      zeroShot: Record<string, { acc: number; accNorm: number; count: number }>;
    };
    assert.ok(Math.abs(Math.log(ev.perplexity) - ev.loss) < 1e-9, 'perplexity = exp(mean NLL)');
    assert.ok(
      ev.bitsPerByte > 0,
      'bits per byte are reported for a text dataset (formula: test/eval/bits-per-byte.test.ts)',
    );
    assert.ok(
      ev.perplexity < ev.unigramPerplexity,
      `trained LM ${ev.perplexity} beats unigram ${ev.unigramPerplexity}`,
    );

    // The unigram baseline, recomputed here from the dataset artifact.
    const dataDir = join(dir, 'runs', summary.dir.split('/').pop() ?? '', 'artifacts', 'data');
    const dataset = await readDatasetArtifact(dataDir);
    const train = dataset.splits.get('train')!;
    const test = dataset.splits.get('test')!;
    const L = 48;
    const counts = new Map<number, number>();
    let total = 0;
    for (let s = 0; s < train.count; s++)
      for (let t = 1; t < L; t++) {
        const id = train.x[s * L + t]!;
        counts.set(id, (counts.get(id) ?? 0) + 1);
        total++;
      }
    let nll = 0;
    let n = 0;
    for (let s = 0; s < test.count; s++)
      for (let t = 1; t < L; t++) {
        nll -= Math.log(((counts.get(test.x[s * L + t]!) ?? 0) + 1) / (total + dataset.numClasses));
        n++;
      }
    assert.equal(n, ev.tokens);
    assert.ok(Math.abs(Math.exp(nll / n) - ev.unigramPerplexity) < 1e-9 * ev.unigramPerplexity);

    for (const task of ['lambada-style', 'next-sentence']) {
      const z = ev.zeroShot[task];
      assert.ok(
        z !== undefined && z.count > 0 && z.acc >= 0 && z.acc <= 1 && z.accNorm >= 0,
        `${task}: ${JSON.stringify(z)}`,
      );
    }

    // Size on disk of a Hugging Face layout: config.json and the safetensors files.
    const modelDir = join(dataDir, '..', 'model');
    const size = (
      metrics('eval') as { size: { modelJson: { bytes: number }; weights: { bytes: number } } }
    ).size;
    assert.equal(size.weights.bytes, statSync(join(modelDir, 'model.safetensors')).size);
    assert.equal(size.modelJson.bytes, statSync(join(modelDir, 'config.json')).size);

    // HF layout with the dataset's tokenizer copied byte for byte.
    const out = join(dir, 'exported');
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'])
      assert.ok(existsSync(join(out, f)), `${f} exported`);
    assert.deepEqual(
      readFileSync(join(out, 'tokenizer.json')),
      readFileSync(join(dataDir, 'tokenizer', 'tokenizer.json')),
    );
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(config.model_type, 'llama');
    assert.equal(config.num_key_value_heads, 2);
  });
});
