// A csv file per split: one record per row, one label column, every other column a feature.
// Parsed with csv-parse (quotes, delimiters, BOM, CRLF). Ids are 0-based data-row indices (the
// header does not count). A row is malformed when its column count differs from the header's
// (without a header: from `shape`, else the most common count in the file), a feature cell is not
// a number (empty cells included), a pixel is not an integer 0–255, or the label is missing/unknown.
import { parse } from 'csv-parse/sync';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { LabelEncoder } from '../labels.js';
import type { LoadDatasetOptions } from '../options.js';
import { SplitBuilder } from './split-builder.js';
import { commonLength, readTextFile } from './split-files.js';
import { textFileSource } from './text-file-source.js';
import type { DatasetSource, RawSplit, SourceEnv } from './types.js';
import { checkFeatures } from './validate-record.js';

interface CsvRow {
  record: string[];
  info: { lines: number };
}

function parseCsv(text: string, file: string, delimiter: string): CsvRow[] {
  try {
    // With `info: true` each entry is { record, info } (the typings only describe plain records).
    return parse(text, {
      delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
      info: true,
    }) as unknown as CsvRow[];
  } catch (e) {
    const line = (e as { lines?: unknown }).lines;
    throw new ScalpelError(
      ErrorCode.Data,
      `${file}${typeof line === 'number' ? `:${line}` : ''}: cannot parse as csv: ${(e as Error).message}`,
      {
        location: { file, ...(typeof line === 'number' ? { line } : {}) },
        hint: `check quoting and the delimiter (now ${JSON.stringify(delimiter)})`,
        cause: e,
      },
    );
  }
}

function labelIndex(
  opts: LoadDatasetOptions,
  header: string[] | undefined,
  columns: number,
  file: string,
): number {
  const col = opts.labelColumn ?? (header !== undefined ? 'label' : 0);
  if (typeof col === 'number') {
    if (!Number.isInteger(col) || col < 0 || col >= columns) {
      throw new ScalpelError(
        ErrorCode.Data,
        `${file}: labelColumn ${col} is outside the ${columns} columns`,
        {
          location: { file },
          hint: 'labelColumn is a 0-based column index or a header name',
        },
      );
    }
    return col;
  }
  if (header === undefined) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `load-dataset: labelColumn '${col}' is a name but header is false`,
      {
        hint: 'give labelColumn as a 0-based column index, or set header: true',
      },
    );
  }
  const i = header.findIndex((h) => h.trim() === col);
  if (i < 0) {
    throw new ScalpelError(ErrorCode.Data, `${file}: no column named '${col}' in the header`, {
      location: { file, line: 1 },
      hint: `columns: ${header.slice(0, 12).join(', ')}${header.length > 12 ? ', …' : ''}; set labelColumn`,
    });
  }
  return i;
}

async function loadCsvSplit(
  name: string,
  file: string,
  opts: LoadDatasetOptions,
  encoder: LabelEncoder,
  env: SourceEnv,
): Promise<{ split: RawSplit; size: number }> {
  const rows = parseCsv(await readTextFile(file), file, opts.delimiter);
  const header = opts.header ? rows.shift()?.record : undefined;
  if (opts.header && header === undefined) {
    throw new ScalpelError(ErrorCode.Data, `${file} is empty (not even a header line)`, {
      location: { file },
    });
  }
  const shapeSize = opts.shape?.reduce((a, b) => a * b, 1);
  const columns =
    header?.length ??
    (shapeSize !== undefined ? shapeSize + 1 : commonLength(rows.map((r) => r.record.length))) ??
    0;
  const size = columns - 1;
  const label =
    rows.length > 0 || header !== undefined ? labelIndex(opts, header, columns, file) : 0;
  const builder = new SplitBuilder(name, Math.max(size, 0), opts.pixels, rows.length);
  const features = new Array<string>(Math.max(size, 0));
  const values = new Float64Array(Math.max(size, 0));
  for (let r = 0; r < rows.length; r++) {
    const { record, info } = rows[r] as CsvRow;
    const pos = { file, record: r, line: info.lines };
    if (record.length !== columns) {
      env.malformed.report(
        name,
        'wrong-length',
        pos,
        `${record.length} columns, expected ${columns}`,
      );
      continue;
    }
    for (let j = 0, k = 0; j < columns; j++) if (j !== label) features[k++] = record[j] as string;
    const problem = checkFeatures(features, size, opts.pixels, values);
    if (problem !== undefined) {
      env.malformed.report(name, problem.reason, pos, problem.detail);
      continue;
    }
    const e = encoder.encode(record[label]);
    if (!e.ok) {
      env.malformed.report(name, e.missing ? 'missing-label' : 'bad-label', pos, e.detail);
      continue;
    }
    builder.add(values, e.label, r);
  }
  return { split: builder.build(), size };
}

export const csvSource: DatasetSource = textFileSource('csv', 'feature columns', loadCsvSplit);
