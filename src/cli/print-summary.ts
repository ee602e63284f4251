// The end-of-run report: one row per stage (ran / cached / failed / skipped / interrupted), the
// errors in full, the total time and where the run record is.
import { relative } from 'node:path';
import { formatDuration } from '../engine/progress.js';
import type { RunSummary } from '../engine/run.js';
import { formatError } from './report-error.js';
import { renderTable } from './table.js';

function detail(n: RunSummary['nodes'][number]): string {
  // What a stage threw while being stopped (an abort error, wrapped) is not news to the user.
  if (n.status === 'interrupted') return 'stopped: run interrupted (not cached; a rerun redoes it)';
  if (n.error !== undefined) return `${n.error.code}: ${n.error.message}`;
  if (n.skippedBecause === 'interrupted') return 'not started: run interrupted';
  if (n.skippedBecause !== undefined) return `because '${n.skippedBecause}' failed`;
  return headline(n.metrics);
}

/** The numbers a user looks for first: an evaluation's accuracy (or perplexity) and loss, a pruner's density. */
function headline(m: Readonly<Record<string, unknown>> | undefined): string {
  if (m === undefined) return '';
  const parts: string[] = [];
  const num = (k: string): number | undefined => (typeof m[k] === 'number' ? m[k] : undefined);
  const accuracy = num('accuracy');
  const loss = num('loss');
  const density = num('density');
  if (accuracy !== undefined) parts.push(`accuracy ${(100 * accuracy).toFixed(2)}%`);
  const perplexity = num('perplexity');
  if (perplexity !== undefined) parts.push(`perplexity ${perplexity.toFixed(2)}`);
  if (loss !== undefined) parts.push(`loss ${loss.toFixed(4)}`);
  if (accuracy === undefined && typeof m['method'] === 'string' && density !== undefined)
    parts.push(`${m['method']}, density ${(100 * density).toFixed(2)}%`);
  return parts.join(', ');
}

export function renderSummary(s: RunSummary, opts: { debug: boolean; cwd?: string }): string {
  const rows = [['stage', 'uses', 'status', 'time', 'detail']];
  for (const n of s.nodes) {
    const time =
      n.status === 'ran' || n.status === 'failed' || n.status === 'interrupted'
        ? formatDuration(n.durationMs)
        : '';
    rows.push([n.id, n.uses, n.status, time, detail(n)]);
  }
  const counts = (['ran', 'cached', 'failed', 'skipped', 'interrupted'] as const)
    .map((st) => [st, s.nodes.filter((n) => n.status === st).length] as const)
    .filter(([, c]) => c > 0)
    .map(([st, c]) => `${c} ${st}`)
    .join(', ');
  const lines = ['', renderTable(rows), ''];
  const failed = s.nodes.filter((n) => n.error !== undefined && n.status === 'failed');
  for (const n of failed) lines.push(formatError(n.error, opts.debug), '');
  const dir = relative(opts.cwd ?? process.cwd(), s.dir);
  const rel = dir.startsWith('..') || dir === '' ? s.dir : dir;
  lines.push(`run ${s.status}: ${counts} in ${formatDuration(s.durationMs)} · record: ${rel}`);
  return lines.join('\n');
}
