// Zero-shot multiple-choice evaluation for the evaluate stage (language models): task files from
// `zeroShot.tasks` (jsonl, any user's) and from build-lm-tasks stages in `needs`, scored by the
// log-likelihood of each choice (src/eval/multiple-choice.ts: acc and acc_norm as
// lm-evaluation-harness defines them), tokenized with the model's own tokenizer.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ErrorCode, ScalpelError } from '../errors.js';
import { evaluateMultipleChoice, lmLimits, readMultipleChoiceJsonl } from '../eval/index.js';
import { loadTokenizer } from '../data/text/tokenize.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { StageContext } from '../plugin-api/stage.js';
import { sha256File } from '../util/file-hash.js';

export type ZeroShotParams = {
  /** jsonl task files ({ context, choices, label } per line), relative to the recipe. */
  tasks?: string[];
  batchSize?: number;
  /** Score only the first this many examples of each task. */
  limit?: number;
};

/** Every task file of the stage: zeroShot.tasks, then the files of 'tasks' inputs. */
export function zeroShotTaskFiles(ctx: StageContext<{ zeroShot?: ZeroShotParams }>): string[] {
  const given = (ctx.params.zeroShot?.tasks ?? []).map((t) => ctx.resolvePath(t));
  const fromInputs = ctx.inputsOfKind('tasks').flatMap((a) => {
    const files = Array.isArray(a.manifest.files) ? (a.manifest.files as unknown[]) : [];
    return files.filter((f): f is string => typeof f === 'string').map((f) => join(a.dir, f));
  });
  return [...given, ...fromInputs];
}

/** sha256 of the recipe's own task files (inputs are covered by their hashes). */
export async function zeroShotFingerprint(
  tasks: readonly string[] | undefined,
  resolvePath: (p: string) => string,
): Promise<Record<string, string> | undefined> {
  if (tasks === undefined || tasks.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const t of tasks) out[t] = await sha256File(resolvePath(t));
  return out;
}

function tokenizerOf(model: PrunableModel, stageId: string): string {
  const path = model.tokenizerFile;
  if (path === undefined || !existsSync(path)) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `stage '${stageId}': zero-shot tasks need the model's tokenizer, and this ${model.family} model has no tokenizer.json`,
      {
        stageId,
        hint: 'load a Hugging Face checkpoint directory that holds tokenizer.json (or train the model on a text dataset, which saves its tokenizer with it)',
      },
    );
  }
  return path;
}

/** Logits per forward at most (64 MB of float32): the batch size asked for is a ceiling. */
const maxLogitValues = 1 << 24;

function pairBatchSize(model: PrunableModel, asked: number): number {
  const { vocabSize, maxLength } = lmLimits(model);
  const perPair = Math.max((maxLength ?? 1024) * (vocabSize ?? 1), 1);
  return Math.max(1, Math.min(asked, Math.floor(maxLogitValues / perPair)));
}

export async function evaluateZeroShot(
  ctx: StageContext<{ zeroShot?: ZeroShotParams; batchSize: number }>,
  model: PrunableModel,
): Promise<{ metrics: Record<string, unknown>; summary: string[] }> {
  const files = zeroShotTaskFiles(ctx);
  if (files.length === 0) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `stage '${ctx.stageId}': metric zero-shot needs task files`,
      {
        stageId: ctx.stageId,
        hint: 'list jsonl files under with.zeroShot.tasks, or add a build-lm-tasks stage to needs',
      },
    );
  }
  const tokenizer = await loadTokenizer(tokenizerOf(model, ctx.stageId));
  const encode = (text: string): number[] => tokenizer.encode(text);
  const metrics: Record<string, unknown> = {};
  const summary: string[] = [];
  for (const file of files) {
    ctx.signal.throwIfAborted();
    const name = basename(file).replace(/\.jsonl$/, '');
    const all = await readMultipleChoiceJsonl(file);
    const limit = ctx.params.zeroShot?.limit;
    const examples = limit !== undefined ? all.slice(0, limit) : all;
    const r = evaluateMultipleChoice(
      model,
      { name, examples },
      {
        encode,
        batchSize: pairBatchSize(model, ctx.params.zeroShot?.batchSize ?? ctx.params.batchSize),
        ...(tokenizer.eosId !== undefined ? { emptyContextToken: tokenizer.eosId } : {}),
      },
    );
    metrics[name] = {
      acc: r.acc,
      accStderr: r.accStderr,
      accNorm: r.accNorm,
      accNormStderr: r.accNormStderr,
      count: r.count,
      truncated: r.truncated,
      tokensPerSecond: r.tokensPerSecond,
    };
    summary.push(
      `${name} acc ${(100 * r.acc).toFixed(1)}% (norm ${(100 * r.accNorm).toFixed(1)}%) on ${r.count}`,
    );
  }
  return { metrics, summary };
}
