// `--set path=value`: the value is parsed as YAML and put into the parsed document before
// validation, so overridden values are checked (and defaulted) exactly like written ones.
import { YAMLMap, isAlias, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import { ErrorCode, ScalpelError } from '../errors.js';
import { describeValue } from './describe.js';
import type { ParsedYaml } from './parse-yaml.js';
import { formatPath, type PathSegment } from './recipe-path.js';
import { suggestionHint } from '../suggest.js';

export interface AppliedOverride {
  /** As given on the command line, e.g. `stages.prune.with.density=0.2`. */
  readonly raw: string;
  /** The path it resolved to (keys containing dots kept whole). */
  readonly path: readonly PathSegment[];
  readonly value: unknown;
}

function overrideError(
  raw: string,
  message: string,
  hint: string,
  file?: string,
  path?: readonly PathSegment[],
  yaml?: ParsedYaml,
): ScalpelError {
  const location =
    yaml !== undefined && path !== undefined
      ? yaml.locate(path)
      : file !== undefined
        ? { file }
        : undefined;
  return new ScalpelError(ErrorCode.RecipeOverride, `--set ${raw}: ${message}`, {
    ...(location !== undefined ? { location } : {}),
    hint,
  });
}

/** Split `path=value` and parse the value as YAML. */
export function parseOverride(raw: string, file?: string): { segments: string[]; value: unknown } {
  const eq = raw.indexOf('=');
  const pathText = eq < 0 ? raw : raw.slice(0, eq).trim();
  const syntaxHint =
    'write --set path=value, e.g. --set stages.prune.with.density=0.2 (quote it for the shell if the value has spaces)';
  if (eq < 0) throw overrideError(raw, "missing '=' between path and value", syntaxHint, file);
  const segments = pathText.split('.');
  if (pathText === '' || segments.some((s) => s.trim() === '')) {
    throw overrideError(raw, `'${pathText}' is not a valid path`, syntaxHint, file);
  }
  const valueText = raw.slice(eq + 1);
  if (valueText.trim() === '') {
    throw overrideError(
      raw,
      'no value after "="',
      "give a value; for an empty string write path=''",
      file,
    );
  }
  const doc = parseDocument(valueText, { prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err !== undefined) {
    throw overrideError(
      raw,
      `the value is not valid YAML: ${(err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '')}`,
      "the value is parsed as YAML: write lists as [a, b], mappings as {k: v}, and quote strings with ':' or '#'",
      file,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw overrideError(
      raw,
      `the value could not be read: ${e instanceof Error ? e.message : String(e)}`,
      syntaxHint,
      file,
    );
  }
  return { segments: segments.map((s) => s.trim()), value };
}

function keyOf(k: unknown): string {
  return isScalar(k) ? String(k.value) : String(k);
}

/** Apply overrides in order to the parsed document; returns what was applied (for error notes). */
export function applyOverrides(yaml: ParsedYaml, sets: readonly string[]): AppliedOverride[] {
  const applied: AppliedOverride[] = [];
  for (const raw of sets) {
    const { segments, value } = parseOverride(raw, yaml.file);
    const doc = yaml.doc;
    let node: unknown = doc.contents;
    let parent: YAMLMap | undefined;
    const resolved: PathSegment[] = [];
    let i = 0;
    while (i < segments.length) {
      if (isAlias(node)) node = node.resolve(doc);
      if (parent !== undefined && (node === null || (isScalar(node) && node.value === null))) {
        // `with:` left empty is an empty mapping for the purpose of setting keys in it.
        const created = new YAMLMap();
        parent.set(resolved[resolved.length - 1], created);
        node = created;
      }
      parent = undefined;
      const here = formatPath(resolved);
      if (isMap(node)) {
        const keys = node.items.filter(isPair).map((p) => keyOf(p.key));
        // Longest match first: keys may contain dots (sweep parameters).
        let j = segments.length;
        while (j > i && !keys.includes(segments.slice(i, j).join('.'))) j--;
        if (j === i) {
          const key = segments[i] ?? '';
          const isLast = i === segments.length - 1;
          const isStageWith = resolved.length === 2 && resolved[0] === 'stages' && key === 'with';
          if (isLast) {
            node.set(key, doc.createNode(value));
            resolved.push(key);
            break;
          }
          if (isStageWith) {
            // A stage without `with:` gets one, so `--set stages.x.with.k=v` always works.
            const created = new YAMLMap();
            node.set(key, created);
            resolved.push(key);
            parent = node;
            node = created;
            i += 1;
            continue;
          }
          throw overrideError(
            raw,
            `${resolved.length === 0 ? 'the recipe' : here} has no key '${key}', so '${[...resolved, key].join('.')}' cannot be set`,
            suggestionHint(key, keys, 'key'),
            undefined,
            resolved,
            yaml,
          );
        }
        const key = segments.slice(i, j).join('.');
        resolved.push(key);
        if (j === segments.length) {
          node.set(key, doc.createNode(value));
          break;
        }
        const pair = node.items.find((p) => isPair(p) && keyOf(p.key) === key);
        parent = node;
        node = pair?.value;
        i = j;
      } else if (isSeq(node)) {
        const seg = segments[i] ?? '';
        const index = /^\d+$/.test(seg) ? Number(seg) : NaN;
        const isLast = i === segments.length - 1;
        const max = isLast ? node.items.length : node.items.length - 1;
        if (!(index >= 0 && index <= max)) {
          throw overrideError(
            raw,
            `${here} is a list of ${node.items.length}; '${seg}' is not an index in it`,
            `use an index from 0 to ${max}${isLast ? ` (${node.items.length} appends)` : ''}, or set the whole list: --set ${here}=[a, b]`,
            undefined,
            resolved,
            yaml,
          );
        }
        resolved.push(index);
        if (isLast) {
          if (index === node.items.length) node.add(doc.createNode(value));
          else node.set(index, doc.createNode(value));
          break;
        }
        node = node.items[index];
        i += 1;
      } else {
        const scalar = isScalar(node) ? node.value : node;
        throw overrideError(
          raw,
          `${resolved.length === 0 ? 'the recipe' : here} is ${describeValue(scalar)}, not a mapping or list, so '${segments.join('.')}' goes through a value`,
          `set ${here} itself (--set ${here}=…), or fix the path`,
          undefined,
          resolved,
          yaml,
        );
      }
    }
    applied.push({ raw, path: resolved, value });
  }
  return applied;
}
