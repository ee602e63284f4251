// compare-table: the closing table of a comparison recipe (recipes/compare-one-shot.yaml,
// recipes/lm-compare.yaml). Each row pairs a prune stage (method, achieved density, N:M pattern,
// pruning time) with the evaluate stage of its model: accuracy and loss for classifiers;
// perplexity, loss and each zero-shot task's accuracy for language models (whichever the
// evaluations report). A row's `after` stages (fine-tuning) add their time and their name
// (`icbs + finetune`). The table is logged and written as table.md and table.json.
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../errors.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { Artifact, StageContext, StageResult } from '../plugin-api/stage.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-file.js';
import { readSchema } from '../util/schemas.js';

export type CompareTableParams = {
  rows: { label?: string; prune: string; after?: string[]; eval: string }[];
  title: string;
};

export interface CompareRow {
  label: string;
  method: string;
  density: number | null;
  /** The prune stage's N:M pattern ('2:4'), null for unstructured pruning. */
  pattern: string | null;
  accuracy: number | null;
  loss: number | null;
  perplexity: number | null;
  /** Zero-shot accuracy per task name. */
  zeroShot: Record<string, number | null>;
  /** The prune stage's time plus every `after` stage's; null when one of them reports none. */
  timeSeconds: number | null;
  pruneSeconds: number | null;
}

interface Column {
  readonly header: string;
  readonly cell: (r: CompareRow) => string;
}

/** The metric columns the rows have values for (accuracy before loss; LM columns when present). */
function columnsFor(rows: readonly CompareRow[]): Column[] {
  const cols: Column[] = [];
  if (rows.some((r) => r.perplexity !== null))
    cols.push({ header: 'perplexity ↓', cell: (r) => fmt(r.perplexity, 2) });
  if (rows.some((r) => r.accuracy !== null) || cols.length === 0)
    cols.push({ header: 'accuracy ↑', cell: (r) => fmt(r.accuracy, 2, 100, '%') });
  cols.push({ header: 'loss ↓', cell: (r) => fmt(r.loss, 4) });
  const tasks = [...new Set(rows.flatMap((r) => Object.keys(r.zeroShot)))];
  for (const t of tasks)
    cols.push({ header: `${t} acc ↑`, cell: (r) => fmt(r.zeroShot[t] ?? null, 1, 100, '%') });
  return cols;
}

function zeroShotOf(metrics: Record<string, unknown>): Record<string, number | null> {
  const z = metrics.zeroShot;
  const out: Record<string, number | null> = {};
  if (z === null || typeof z !== 'object') return out;
  for (const [task, m] of Object.entries(z as Record<string, unknown>))
    out[task] = m !== null && typeof m === 'object' ? num((m as { acc?: unknown }).acc) : null;
  return out;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const fmt = (v: number | null, digits: number, scale = 1, unit = ''): string =>
  v === null ? '—' : `${(v * scale).toFixed(digits)}${unit}`;

/** The Markdown table (GitHub style). */
export function renderMarkdown(title: string, rows: readonly CompareRow[]): string {
  const cols = columnsFor(rows);
  const lines = [
    `## ${title}`,
    '',
    `| method | density | ${cols.map((c) => c.header).join(' | ')} | time |`,
    `| --- | ---: | ${cols.map(() => '---:').join(' | ')} | ---: |`,
    ...rows.map(
      (r) =>
        `| ${r.label} | ${fmt(r.density, 3)}${r.pattern !== null ? ` (${r.pattern})` : ''} | ${cols.map((c) => c.cell(r)).join(' | ')} | ${fmt(r.timeSeconds, 2, 1, ' s')} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

export const compareTableStage = defineStage<CompareTableParams>({
  name: 'compare-table',
  version: '1',
  description:
    'Table of method, density, quality (accuracy and loss, or perplexity, loss and zero-shot accuracy) and time over several prune + evaluate stages (Markdown and JSON)',
  schema: readSchema('stages/compare-table.schema.json'),
  output: 'metrics',
  inputs: [
    { kind: 'model', optional: true, multiple: true },
    { kind: 'metrics', optional: true, multiple: true },
  ],
  async run(ctx: StageContext<CompareTableParams>): Promise<StageResult> {
    const byId = new Map(ctx.inputs.map((a) => [a.stageId, a]));
    const need = (id: string, field: string): Artifact => {
      const a = byId.get(id);
      if (a === undefined) {
        throw new ScalpelError(
          ErrorCode.Graph,
          `stage '${ctx.stageId}': rows.${field} names '${id}', which is not in its \`needs\``,
          {
            stageId: ctx.stageId,
            hint: `add '${id}' to needs (inputs: ${[...byId.keys()].join(', ') || 'none'})`,
          },
        );
      }
      return a;
    };
    const rows: CompareRow[] = ctx.params.rows.map((r) => {
      const p = need(r.prune, 'prune').metrics;
      const after = (r.after ?? []).map((id) => need(id, 'after'));
      const e = need(r.eval, 'eval').metrics;
      const method = typeof p.method === 'string' ? p.method : r.prune;
      const pruneMs = num(p.timeMs);
      const times = [pruneMs, ...after.map((a) => num(a.metrics.timeMs))];
      const ms = times.some((t) => t === null)
        ? null
        : times.reduce<number>((sum, t) => sum + (t ?? 0), 0);
      return {
        label: r.label ?? [method, ...after.map((a) => a.stageType)].join(' + '),
        method,
        density: num(p.density),
        pattern: typeof p.pattern === 'string' ? p.pattern : null,
        accuracy: num(e.accuracy),
        loss: num(e.loss),
        perplexity: num(e.perplexity),
        zeroShot: zeroShotOf(e),
        timeSeconds: ms === null ? null : ms / 1000,
        pruneSeconds: pruneMs === null ? null : pruneMs / 1000,
      };
    });
    const markdown = renderMarkdown(ctx.params.title, rows);
    await writeFileAtomic(join(ctx.outDir, 'table.md'), markdown);
    await writeJsonAtomic(join(ctx.outDir, 'table.json'), { title: ctx.params.title, rows });
    ctx.log.info(`\n${markdown}`);
    return {
      kind: 'metrics',
      manifest: { markdown: 'table.md', json: 'table.json' },
      metrics: { rows },
    };
  },
});
