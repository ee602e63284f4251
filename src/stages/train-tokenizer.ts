// train-tokenizer: a byte-level BPE tokenizer (src/data/tokenizer/) trained on the TRAINING split
// of text corpora — the same document-level split load-dataset's `source: text` makes with the
// same `split:` options, so no validation or test document shapes the vocabulary. Output: a
// 'tokenizer' artifact (tokenizer.json + tokenizer_config.json, which @huggingface/tokenizers and
// transformers load), optionally published into `to:`.
import { splitDocuments } from '../data/text/split.js';
import {
  readTextDocuments,
  splitFractions,
  type TextDocumentOptions,
} from '../data/text/load-text-dataset.js';
import { textSourceFingerprint } from '../data/text/text-fingerprint.js';
import { trainByteLevelBpe } from '../data/tokenizer/train-bpe.js';
import { writeTokenizerFiles } from '../data/tokenizer/write-tokenizer-files.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { readSchema } from '../util/schemas.js';
import { publishDir } from './publish-dir.js';

export type TrainTokenizerParams = TextDocumentOptions & {
  vocabSize: number;
  minFrequency: number;
  specialTokens: string[];
  modelMaxLength: number;
  to?: string;
};

export const tokenizerFileNames = ['tokenizer.json', 'tokenizer_config.json'] as const;

export const trainTokenizerStage = defineStage<TrainTokenizerParams>({
  name: 'train-tokenizer',
  version: '1',
  description:
    'Train a byte-level BPE tokenizer (tokenizer.json) on the training split of text corpora',
  schema: readSchema('stages/train-tokenizer.schema.json'),
  output: 'tokenizer',
  inputs: [],

  fingerprint(params, ctx) {
    return textSourceFingerprint(params, (p) => ctx.resolvePath(p));
  },

  async run(ctx: StageContext<TrainTokenizerParams>): Promise<StageResult> {
    const p = ctx.params;
    const { documents } = await readTextDocuments(p, (path) => ctx.resolvePath(path));
    const splits = splitDocuments(documents, splitFractions(p));
    const texts = splits.train.map((d) => d.text);
    const bar = ctx.progress(`${ctx.stageId}: merges`, p.vocabSize);
    const started = performance.now();
    const model = trainByteLevelBpe(texts, {
      vocabSize: p.vocabSize,
      minFrequency: p.minFrequency,
      specialTokens: p.specialTokens,
      progress: (done) => bar.update(done),
    });
    bar.done();
    const seconds = (performance.now() - started) / 1000;
    await writeTokenizerFiles(ctx.outDir, model, { modelMaxLength: p.modelMaxLength });
    let publishedTo: string | undefined;
    if (p.to !== undefined) {
      publishedTo = ctx.resolvePath(p.to);
      await publishDir(ctx.outDir, publishedTo, tokenizerFileNames, ctx.stageId);
      ctx.log.info(`tokenizer written to ${publishedTo}`);
    }
    ctx.log.info(
      `${ctx.stageId}: ${model.vocab.size} tokens (${model.merges.length} merges) from ${texts.length} training documents in ${seconds.toFixed(1)} s`,
    );
    return {
      kind: 'tokenizer',
      manifest: {
        files: [...tokenizerFileNames],
        ...(publishedTo !== undefined ? { publishedTo } : {}),
      },
      metrics: {
        vocabSize: model.vocab.size,
        merges: model.merges.length,
        trainingDocuments: texts.length,
        heldOutDocuments: splits.validation.length + splits.test.length,
        duplicatesDropped: splits.duplicates.length,
        split: splitFractions(p),
      },
    };
  },
});
