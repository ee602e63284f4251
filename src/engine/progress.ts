// The one progress API stages use (Progress from the plugin API): cli-progress bars on a TTY,
// plain throttled lines otherwise ("prune: 120/300 (40%) ETA 1m12s dL=-0.02"), and throttled
// `progress` records in events.jsonl either way.
import type { Progress } from '../plugin-api/stage.js';
import type { Terminal } from './terminal.js';

export type ProgressInfo = Record<string, string | number>;

export interface ProgressSinkOptions {
  readonly terminal: Terminal;
  /** false: nothing on the console (--quiet); events are still recorded. */
  readonly console: boolean;
  /** Receives throttled progress records (for events.jsonl). */
  readonly record: (stageId: string, data: Record<string, unknown>) => void;
  /** Minimum time between plain lines of one progress (non-TTY). Default 2000 ms. */
  readonly lineIntervalMs?: number;
  /** Minimum time between records of one progress. Default 1000 ms. */
  readonly eventIntervalMs?: number;
}

/** "1.3s", "45s", "1m12s", "2h03m". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 10000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function formatInfo(info: ProgressInfo | undefined): string {
  if (info === undefined) return '';
  return Object.entries(info)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? formatNumber(v) : v}`)
    .join(' ');
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

/** One plain progress line; exported for tests. */
export function progressLine(
  name: string,
  done: number,
  total: number,
  elapsedMs: number,
  info?: ProgressInfo,
): string {
  const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
  const eta =
    done > 0 && done < total ? ` ETA ${formatDuration((elapsedMs * (total - done)) / done)}` : '';
  const extra = formatInfo(info);
  return `${name}: ${done}/${total} (${pct}%)${eta}${extra !== '' ? ' ' + extra : ''}`;
}

/**
 * A progress label without a leading copy of the stage id: stages (and plugins) often write
 * `${ctx.stageId}: 3 epochs`, and the line and bar already start with the stage id.
 */
export function ownLabel(stageId: string, label: string): string {
  if (label === stageId) return '';
  for (const sep of [': ', ' ']) {
    if (label.startsWith(stageId + sep)) return label.slice(stageId.length + sep.length);
  }
  return label;
}

export class ProgressSink {
  private readonly opts: ProgressSinkOptions;
  private readonly open = new Set<{ done(): void }>();

  constructor(opts: ProgressSinkOptions) {
    this.opts = opts;
  }

  /** A Progress for `label` inside stage `stageId`. */
  create(stageId: string, given: string, total: number): Progress {
    const { terminal, record } = this.opts;
    const label = ownLabel(stageId, given);
    const lineEvery = this.opts.lineIntervalMs ?? 2000;
    const eventEvery = this.opts.eventIntervalMs ?? 1000;
    const name = label === '' ? stageId : `${stageId} ${label}`;
    const started = Date.now();
    let done = 0;
    let info: ProgressInfo | undefined;
    let lastLine = 0;
    let lastEvent = 0;
    let finished = false;
    const useBar = this.opts.console && terminal.isTTY;
    const handle = useBar
      ? terminal.createBar(total, { stage: stageId, label, info: '' })
      : undefined;

    const emit = (force: boolean): void => {
      const now = Date.now();
      if (handle !== undefined) handle.bar.update(done, { info: formatInfo(info) });
      else if (this.opts.console && (force || now - lastLine >= lineEvery)) {
        lastLine = now;
        terminal.write(progressLine(name, done, total, now - started, info) + '\n');
      }
      if (force || now - lastEvent >= eventEvery) {
        lastEvent = now;
        record(stageId, {
          label,
          done,
          total,
          elapsedMs: now - started,
          ...(info !== undefined ? { info } : {}),
        });
      }
    };

    const p: Progress = {
      tick: (n = 1, i) => {
        if (finished) return;
        done = Math.min(total, done + n);
        if (i !== undefined) info = i;
        emit(false);
      },
      update: (value, i) => {
        if (finished) return;
        done = Math.max(0, Math.min(total, value));
        if (i !== undefined) info = i;
        emit(false);
      },
      done: () => {
        if (finished) return;
        finished = true;
        this.open.delete(p);
        emit(true);
        handle?.release();
      },
    };
    // lastLine/lastEvent start at 0: the first tick is shown at once, so a slow stage shows life.
    this.open.add(p);
    return p;
  }

  /** Finish every progress still open (a stage threw or the run was interrupted). */
  closeAll(): void {
    for (const p of [...this.open]) p.done();
    this.opts.terminal.stop();
  }
}
