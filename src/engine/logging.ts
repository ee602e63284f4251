// Logging for a run (winston). Two sinks: the console (stderr, human-readable; --quiet shows
// warnings and errors, --verbose adds debug) and events.jsonl in the run directory (every log
// line, every ctx.event and throttled progress, as winston JSON lines with timestamp and stageId).
// events.jsonl is written synchronously line by line, so a crash loses at most the line being
// written and never leaves an interleaved one.
import { closeSync, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { once } from 'node:events';
import winston from 'winston';
import type { Logger } from '../plugin-api/stage.js';
import type { Terminal } from './terminal.js';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

/** The verbosity `--quiet` / `--verbose` ask for (verbose wins when both are given). */
export function verbosityOf(opts: { quiet?: boolean; verbose?: boolean }): Verbosity {
  if (opts.verbose === true) return 'verbose';
  if (opts.quiet === true) return 'quiet';
  return 'normal';
}

export interface RunLoggingOptions {
  readonly terminal: Terminal;
  readonly verbosity: Verbosity;
  /** Path of events.jsonl; omitted: no file. */
  readonly eventsFile?: string;
  /** Colour the console level names (default: terminal.isTTY). */
  readonly colors?: boolean;
}

const consoleLevel: Record<Verbosity, string> = { quiet: 'warn', normal: 'info', verbose: 'debug' };

/** Records that belong in events.jsonl only (ctx.event, progress), never on the console. */
const fileOnly = winston.format((info) => (info['record'] !== undefined ? false : info));

function metaText(info: winston.Logform.TransformableInfo): string {
  const skip = new Set(['level', 'message', 'timestamp', 'stageId', 'record']);
  const rest = Object.fromEntries(Object.entries(info).filter(([k]) => !skip.has(k)));
  return Object.keys(rest).length > 0 ? ' ' + JSON.stringify(rest) : '';
}

function humanFormat(colors: boolean): winston.Logform.Format {
  const formats = [
    fileOnly(),
    winston.format.timestamp({ format: 'HH:mm:ss' }),
    ...(colors ? [winston.format.colorize({ level: true })] : []),
    winston.format.printf((info) => {
      const stage = typeof info['stageId'] === 'string' ? `[${info['stageId']}] ` : '';
      return `${String(info['timestamp'])} ${info.level} ${stage}${String(info.message)}${metaText(info)}`;
    }),
  ];
  return winston.format.combine(...formats);
}

class FdWritable extends Writable {
  readonly fd: number;
  constructor(path: string) {
    super({ decodeStrings: true });
    this.fd = openSync(path, 'a');
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    try {
      let off = 0;
      while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
  override _final(cb: (e?: Error | null) => void): void {
    try {
      closeSync(this.fd);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}

class TerminalWritable extends Writable {
  constructor(private readonly terminal: Terminal) {
    super({ decodeStrings: false });
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.terminal.write(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    cb();
  }
}

export class RunLogging {
  readonly logger: winston.Logger;
  private readonly fileStream: FdWritable | undefined;
  private readonly fileTransport: winston.transport | undefined;

  constructor(opts: RunLoggingOptions) {
    const transports: winston.transport[] = [
      new winston.transports.Stream({
        stream: new TerminalWritable(opts.terminal),
        level: consoleLevel[opts.verbosity],
        format: humanFormat(opts.colors ?? opts.terminal.isTTY),
      }),
    ];
    if (opts.eventsFile !== undefined) {
      this.fileStream = new FdWritable(opts.eventsFile);
      this.fileTransport = new winston.transports.Stream({
        stream: this.fileStream,
        level: 'debug',
        format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
      });
      transports.push(this.fileTransport);
    }
    this.logger = winston.createLogger({ level: 'debug', transports, exitOnError: false });
  }

  /** A logger whose lines carry `stageId`. */
  forStage(stageId: string): Logger {
    return this.logger.child({ stageId });
  }

  /** A structured event (ctx.event): events.jsonl only. */
  event(stageId: string | undefined, type: string, data: Record<string, unknown>): void {
    this.logger.log({
      level: 'info',
      message: type,
      record: 'event',
      ...(stageId !== undefined ? { stageId } : {}),
      data,
    });
  }

  /** A throttled progress record: events.jsonl only. */
  progress(stageId: string, data: Record<string, unknown>): void {
    this.logger.log({ level: 'info', message: 'progress', record: 'progress', stageId, data });
  }

  /** Flush and close events.jsonl. */
  async close(): Promise<void> {
    const transport = this.fileTransport;
    const finished = transport !== undefined ? once(transport, 'finish') : Promise.resolve();
    this.logger.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise((res) => (timer = setTimeout(res, 2000)))]);
    clearTimeout(timer);
    if (this.fileStream !== undefined && !this.fileStream.writableFinished) {
      await new Promise<void>((res) => this.fileStream?.end(() => res()) ?? res());
    }
  }
}
