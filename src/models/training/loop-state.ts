// The step loop's own state, as saved in a checkpoint's `loop` JSON: where the data cursor is, the
// curves so far, the partly filled curve window, and the run's configuration — a checkpoint of a
// run with other settings must not be resumed, or the "resumed" result would silently differ.
import { ErrorCode, ScalpelError } from '../../errors.js';
import { isObject } from '../../util/is-object.js';

/** Mean training loss (dropout active) over the steps since the previous point. */
export interface CurvePoint {
  /** Updates done. */
  readonly step: number;
  readonly loss: number;
  /** Learning rate of the last update of the window. */
  readonly learningRate: number;
  /** Mean global gradient norm before clipping (when clipping is on). */
  readonly gradNorm?: number;
}

/** Task metrics on the validation split after `step` updates. */
export interface EvaluationPoint {
  readonly step: number;
  readonly loss: number;
  readonly values: Readonly<Record<string, number>>;
}

export interface LoopState {
  step: number;
  /** BatchCursor position after `step` batches (checked after replaying the cursor). */
  cursor: { epoch: number; position: number };
  curve: CurvePoint[];
  evaluations: EvaluationPoint[];
  /** Sums over the steps of the current curve window (float64, exact through JSON). */
  window: { steps: number; lossSum: number; gradNormSum: number };
  samples: number;
  tokens: number;
}

export function freshLoopState(): LoopState {
  return {
    step: 0,
    cursor: { epoch: 0, position: 0 },
    curve: [],
    evaluations: [],
    window: { steps: 0, lossSum: 0, gradNormSum: 0 },
    samples: 0,
    tokens: 0,
  };
}

/** What a run's result depends on besides the seed streams; must match to resume. */
export type LoopConfig = Readonly<Record<string, string | number | boolean | null | object>>;

/** The checkpoint's loop JSON: { config, state }. */
export function loopJson(config: LoopConfig, state: LoopState): Record<string, unknown> {
  return { config, state };
}

function stale(path: string, what: string): ScalpelError {
  return new ScalpelError(
    ErrorCode.Data,
    `training checkpoint ${path} belongs to another training run: ${what}`,
    {
      location: { file: path },
      hint: 'delete the checkpoint directory to train from the start with these settings',
    },
  );
}

/** The loop state in a checkpoint, after checking it was written by a run with `config`. */
export function readLoopJson(
  loop: Readonly<Record<string, unknown>>,
  config: LoopConfig,
  path: string,
): LoopState {
  const saved = loop.config;
  if (!isObject(saved)) throw stale(path, 'it records no loop configuration');
  for (const key of new Set([...Object.keys(config), ...Object.keys(saved)])) {
    const here = JSON.stringify(config[key] ?? null);
    const there = JSON.stringify(saved[key] ?? null);
    if (here !== there) throw stale(path, `${key} is ${there} there, ${here} here`);
  }
  const s = loop.state;
  const num = (x: unknown): boolean => typeof x === 'number';
  const ok =
    isObject(s) &&
    num(s.step) &&
    isObject(s.cursor) &&
    num(s.cursor.epoch) &&
    num(s.cursor.position) &&
    Array.isArray(s.curve) &&
    Array.isArray(s.evaluations) &&
    isObject(s.window) &&
    num(s.window.steps) &&
    num(s.window.lossSum) &&
    num(s.window.gradNormSum) &&
    num(s.samples) &&
    num(s.tokens);
  if (!ok) {
    throw new ScalpelError(
      ErrorCode.Data,
      `training checkpoint ${path} is corrupt: its loop state is malformed`,
      {
        location: { file: path },
        hint: 'delete this file: training then resumes from the previous checkpoint (or starts over)',
      },
    );
  }
  return s as unknown as LoopState;
}
