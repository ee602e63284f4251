// The console (stderr) shared by log lines and progress bars. While cli-progress bars are on
// screen, log lines must go through MultiBar.log() or they would be drawn over; this class is the
// one place that knows whether bars are active.
import cliProgress from 'cli-progress';

export class Terminal {
  readonly stream: NodeJS.WriteStream;
  /** True when the stream is an interactive terminal (bars); false for pipes and files (lines). */
  readonly isTTY: boolean;
  private bars: cliProgress.MultiBar | undefined;
  private activeBars = 0;

  constructor(stream: NodeJS.WriteStream = process.stderr, isTTY: boolean = stream.isTTY === true) {
    this.stream = stream;
    this.isTTY = isTTY;
  }

  /** Write text (ending in a newline) above any progress bars. */
  write(text: string): void {
    if (this.bars !== undefined) this.bars.log(text.endsWith('\n') ? text : text + '\n');
    else this.stream.write(text);
  }

  /** A new bar (TTY only); `release` removes it and stops the MultiBar when none is left. */
  createBar(
    total: number,
    payload: Record<string, string>,
  ): { bar: cliProgress.SingleBar; release(): void } {
    if (this.bars === undefined) {
      this.bars = new cliProgress.MultiBar(
        {
          stream: this.stream,
          format:
            ' {stage} {label} [{bar}] {value}/{total} {percentage}% ETA {eta_formatted} {info}',
          hideCursor: true,
          clearOnComplete: true,
          stopOnComplete: false,
          fps: 5,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
    }
    const bars = this.bars;
    const bar = bars.create(total, 0, payload);
    this.activeBars++;
    let released = false;
    return {
      bar,
      release: () => {
        if (released) return;
        released = true;
        bars.remove(bar);
        this.activeBars--;
        if (this.activeBars === 0) this.stop();
      },
    };
  }

  /** Remove every bar (end of run, interruption). */
  stop(): void {
    if (this.bars === undefined) return;
    this.bars.stop();
    this.bars = undefined;
    this.activeBars = 0;
  }
}
