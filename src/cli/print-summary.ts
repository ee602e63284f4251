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
  return '';
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
