// build-lm-tasks: the two zero-shot tasks scalpel ships, built from the HELD-OUT documents only —
// the test split (or validation) of the same document-level split load-dataset's `source: text`
// makes with the same options — so no example can come from a training document
// (docs/lm-evaluation.md): LAMBADA-style last-word choice and next-sentence choice among four.
// Output: a 'tasks' artifact of jsonl files in the format evaluate's zeroShot.tasks reads,
// optionally published into `to:`.
import { join } from 'node:path';
import {
  buildLambadaStyleTask,
  buildNextSentenceTask,
  writeMultipleChoiceJsonl,
} from '../eval/index.js';
import { splitDocuments } from '../data/text/split.js';
import {
  readTextDocuments,
  splitFractions,
  type TextDocumentOptions,
} from '../data/text/load-text-dataset.js';
import { textSourceFingerprint } from '../data/text/text-fingerprint.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { readSchema } from '../util/schemas.js';
import { publishDir } from './publish-dir.js';

export type BuildLmTasksParams = TextDocumentOptions & {
  from: 'test' | 'validation';
  examples: number;
  maxChoiceWords: number;
  to?: string;
};

export const lmTaskFiles = ['lambada-style.jsonl', 'next-sentence.jsonl'] as const;

export const buildLmTasksStage = defineStage<BuildLmTasksParams>({
  name: 'build-lm-tasks',
  version: '1',
  description: 'Build the LAMBADA-style and next-sentence zero-shot tasks from held-out documents',
  schema: readSchema('stages/build-lm-tasks.schema.json'),
  output: 'tasks',
  inputs: [],

  fingerprint(params, ctx) {
    return textSourceFingerprint(params, (p) => ctx.resolvePath(p));
  },

  async run(ctx: StageContext<BuildLmTasksParams>): Promise<StageResult> {
    const p = ctx.params;
    const { documents } = await readTextDocuments(p, (path) => ctx.resolvePath(path));
    const held = splitDocuments(documents, splitFractions(p))[p.from];
    const docs = held.map((d) => ({ id: d.id, text: d.text }));
    const lambada = buildLambadaStyleTask(docs, { seed: ctx.seed, maxExamples: p.examples });
    const next = buildNextSentenceTask(docs, {
      seed: ctx.seed,
      maxExamples: p.examples,
      maxWords: p.maxChoiceWords,
    });
    await writeMultipleChoiceJsonl(join(ctx.outDir, 'lambada-style.jsonl'), lambada);
    await writeMultipleChoiceJsonl(join(ctx.outDir, 'next-sentence.jsonl'), next);
    let publishedTo: string | undefined;
    if (p.to !== undefined) {
      publishedTo = ctx.resolvePath(p.to);
      await publishDir(ctx.outDir, publishedTo, lmTaskFiles, ctx.stageId);
    }
    ctx.log.info(
      `${ctx.stageId}: ${lambada.length} LAMBADA-style and ${next.length} next-sentence examples from ${docs.length} ${p.from} documents`,
    );
    return {
      kind: 'tasks',
      manifest: { files: [...lmTaskFiles], ...(publishedTo !== undefined ? { publishedTo } : {}) },
      metrics: {
        documents: docs.length,
        split: { from: p.from, ...splitFractions(p) },
        examples: { 'lambada-style': lambada.length, 'next-sentence': next.length },
      },
    };
  },
});
