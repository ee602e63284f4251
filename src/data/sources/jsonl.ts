// A JSON Lines file per split: one object per line, `{ "features": [...], "label": 3 }` (field
// names configurable with featuresField / labelField; the label may be a class name). Blank lines
// are ignored; ids are 0-based indices of the non-blank lines. A line is malformed when it is not
// a JSON object with a features array, the array has the wrong length (`shape`, else the most
// common length in the file), holds a non-number or (pixels) a value outside 0–255, or the label
// is missing/unknown.
import type { LabelEncoder } from '../labels.js';
import type { LoadDatasetOptions } from '../options.js';
import { SplitBuilder } from './split-builder.js';
import { commonLength, readTextFile } from './split-files.js';
import { textFileSource } from './text-file-source.js';
import type { DatasetSource, RawSplit, SourceEnv } from './types.js';
import { checkFeatures } from './validate-record.js';

interface ParsedLine {
  line: number;
  record: number;
  value?: Record<string, unknown>;
  error?: string;
}

function parseLines(text: string): ParsedLine[] {
  const out: ParsedLine[] = [];
  const lines = text.split('\n');
  let record = 0;
  for (let i = 0; i < lines.length; i++) {
    const t = (lines[i] as string).trim();
    if (t === '') continue;
    const entry: ParsedLine = { line: i + 1, record: record++ };
    try {
      const v: unknown = JSON.parse(t);
      if (typeof v === 'object' && v !== null && !Array.isArray(v))
        entry.value = v as Record<string, unknown>;
      else entry.error = `not a JSON object but ${Array.isArray(v) ? 'an array' : typeof v}`;
    } catch (e) {
      entry.error = `invalid JSON (${(e as Error).message})`;
    }
    out.push(entry);
  }
  return out;
}

async function loadJsonlSplit(
  name: string,
  file: string,
  opts: LoadDatasetOptions,
  encoder: LabelEncoder,
  env: SourceEnv,
): Promise<{ split: RawSplit; size: number }> {
  const parsed = parseLines(await readTextFile(file));
  const arrays = parsed
    .map((p) => p.value?.[opts.featuresField])
    .filter((f): f is unknown[] => Array.isArray(f));
  const size =
    opts.shape?.reduce((a, b) => a * b, 1) ?? commonLength(arrays.map((a) => a.length)) ?? 0;
  const builder = new SplitBuilder(name, size, opts.pixels, parsed.length);
  const values = new Float64Array(size);
  for (const p of parsed) {
    const pos = { file, record: p.record, line: p.line };
    if (p.value === undefined) {
      env.malformed.report(name, 'invalid-record', pos, p.error ?? 'unparsable');
      continue;
    }
    const features = p.value[opts.featuresField];
    if (!Array.isArray(features)) {
      const detail =
        features === undefined
          ? `no '${opts.featuresField}' field`
          : `'${opts.featuresField}' is not an array`;
      env.malformed.report(name, 'invalid-record', pos, detail);
      continue;
    }
    const problem = checkFeatures(features, size, opts.pixels, values);
    if (problem !== undefined) {
      env.malformed.report(name, problem.reason, pos, problem.detail);
      continue;
    }
    const e = encoder.encode(p.value[opts.labelField]);
    if (!e.ok) {
      env.malformed.report(
        name,
        e.missing ? 'missing-label' : 'bad-label',
        pos,
        e.missing ? `no '${opts.labelField}' field` : e.detail,
      );
      continue;
    }
    builder.add(values, e.label, p.record);
  }
  return { split: builder.build(), size };
}

export const jsonlSource: DatasetSource = textFileSource(
  'jsonl',
  'features per record',
  loadJsonlSplit,
);
