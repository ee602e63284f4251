// Multiple-choice task files: JSON Lines, one example per line,
//   { "context": string, "choices": string[], "label": integer }   ("gold" is accepted for label)
// with an optional string "id"; other fields are ignored and blank lines skipped. Shipped task
// files and users' files go through this one reader.
import { promises as fs } from 'node:fs';
import { ErrorCode, ScalpelError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { MultipleChoiceExample } from './multiple-choice-types.js';

const formatHint =
  'each line must be a JSON object {"context": string, "choices": [string, ...], "label": integer index of the correct choice}';

function bad(path: string, line: number, what: string): ScalpelError {
  return new ScalpelError(ErrorCode.Data, `${path}:${line}: ${what}`, {
    location: { file: path, line },
    hint: formatHint,
  });
}

/** The example on line `line` of `path`, or E_DATA saying what is wrong with it. */
function parseExample(text: string, path: string, line: number): MultipleChoiceExample {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw bad(path, line, `invalid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw bad(
      path,
      line,
      `not a JSON object but ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}`,
    );
  const o = v as Record<string, unknown>;
  if (typeof o.context !== 'string')
    throw bad(
      path,
      line,
      o.context === undefined ? "no 'context' field" : "'context' is not a string",
    );
  const choices = o.choices;
  if (!Array.isArray(choices))
    throw bad(
      path,
      line,
      choices === undefined ? "no 'choices' field" : "'choices' is not an array",
    );
  if (choices.length === 0) throw bad(path, line, "'choices' is empty");
  const nonString = choices.findIndex((c) => typeof c !== 'string');
  if (nonString >= 0) throw bad(path, line, `choice ${nonString} is not a string`);
  if (o.label !== undefined && o.gold !== undefined && o.label !== o.gold)
    throw bad(
      path,
      line,
      `'label' (${JSON.stringify(o.label)}) and 'gold' (${JSON.stringify(o.gold)}) disagree`,
    );
  const label = o.label ?? o.gold;
  if (label === undefined) throw bad(path, line, "no 'label' (or 'gold') field");
  if (typeof label !== 'number' || !Number.isInteger(label))
    throw bad(path, line, `label ${JSON.stringify(label)} is not an integer`);
  if (label < 0 || label >= choices.length)
    throw bad(path, line, `label ${label} is out of range for ${choices.length} choices (0-based)`);
  if (o.id !== undefined && typeof o.id !== 'string') throw bad(path, line, "'id' is not a string");
  return {
    ...(typeof o.id === 'string' ? { id: o.id } : {}),
    context: o.context,
    choices: choices as string[],
    label,
  };
}

/** Parse task file text (`path` is only used in messages). */
export function parseMultipleChoiceJsonl(text: string, path: string): MultipleChoiceExample[] {
  const out: MultipleChoiceExample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = (lines[i] as string).trim();
    if (t !== '') out.push(parseExample(t, path, i + 1));
  }
  if (out.length === 0) {
    throw new ScalpelError(ErrorCode.Data, `${path}: the task file holds no examples`, {
      location: { file: path },
      hint: formatHint,
    });
  }
  return out;
}

export async function readMultipleChoiceJsonl(path: string): Promise<MultipleChoiceExample[]> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ScalpelError(
      ErrorCode.Io,
      code === 'ENOENT'
        ? `task file not found: ${path}`
        : `cannot read task file ${path}: ${code ?? String(e)}`,
      {
        location: { file: path },
        hint: 'check the path of the multiple-choice task file',
        cause: e,
      },
    );
  }
  return parseMultipleChoiceJsonl(text, path);
}

/** One line per example (id, context, choices, label), written atomically. */
export function formatMultipleChoiceJsonl(examples: readonly MultipleChoiceExample[]): string {
  return examples
    .map((ex) =>
      JSON.stringify({
        ...(ex.id !== undefined ? { id: ex.id } : {}),
        context: ex.context,
        choices: ex.choices,
        label: ex.label,
      }),
    )
    .map((l) => l + '\n')
    .join('');
}

export async function writeMultipleChoiceJsonl(
  path: string,
  examples: readonly MultipleChoiceExample[],
): Promise<void> {
  await writeFileAtomic(path, formatMultipleChoiceJsonl(examples));
}
