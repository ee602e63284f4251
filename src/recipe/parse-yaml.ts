// YAML → document with source positions. The document (not plain JSON) is kept so that `--set`
// overrides can be applied to it and every later error can point at file:line:col.
import {
  Document,
  LineCounter,
  isAlias,
  isMap,
  isPair,
  isNode,
  isScalar,
  isSeq,
  parseDocument,
  visit,
  type Node as YamlNode,
  type YAMLError,
} from 'yaml';
import { ErrorCode, ScalpelError, type SourceLocation } from '../errors.js';
import type { PathSegment, RecipePath } from './recipe-path.js';

/** Hints for the YAML mistakes people actually make. */
const syntaxHints: Partial<Record<YAMLError['code'], string>> = {
  TAB_AS_INDENT: 'YAML indentation must use spaces; replace the tab(s) at the start of this line',
  DUPLICATE_KEY: 'each key may appear only once in a mapping; remove or rename one of them',
  BAD_INDENT: 'check the indentation and that every [ has a ] and every { has a }',
  MISSING_CHAR: 'a key must be followed by ": " (colon and space); check quotes and brackets',
  MULTIPLE_DOCS: 'a recipe is a single YAML document; remove the extra "---"',
  BLOCK_AS_IMPLICIT_KEY: 'nested mappings go on their own, further-indented lines',
  MULTILINE_IMPLICIT_KEY:
    'check the indentation of this line and the quotes on the lines before it',
  UNEXPECTED_TOKEN: 'check quotes, brackets and indentation near here',
  BAD_DQ_ESCAPE:
    'inside "double quotes" a backslash starts an escape; use single quotes for Windows paths',
};

export interface LocateOptions {
  /** Point at the key of the last segment (e.g. for "unknown key") rather than its value. */
  key?: boolean;
}

export interface ParsedYaml {
  readonly file: string;
  readonly doc: Document.Parsed;
  /** Source position of a path; falls back to the nearest parent that exists in the file. */
  locate(path: RecipePath | string, options?: LocateOptions): SourceLocation;
  /** The node at a path, if present. */
  nodeAt(path: RecipePath): unknown;
  /** The document as plain JSON. */
  toJSON(): unknown;
}

function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, '').replace(/[.:]$/, '');
}

/** A map key as text: scalars by value, other nodes as YAML, keys set by program as themselves. */
function keyString(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  if (isNode(key)) return key.toString();
  if (key === null || key === undefined) return '';
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'boolean' || typeof key === 'bigint')
    return String(key);
  // Neither the parser nor setIn leaves object, symbol or function keys.
  return typeof key === 'symbol' || typeof key === 'function'
    ? key.toString()
    : JSON.stringify(key);
}

/** Split a dotted path, preferring real keys that contain dots (resolved later against the map). */
function splitDotted(path: string): string[] {
  return path === '' ? [] : path.split('.');
}

export function parseRecipeYaml(file: string, text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: false,
  });

  const position = (offset: number): { line: number; col: number } => lineCounter.linePos(offset);
  const at = (offset: number): SourceLocation => ({ file, ...position(offset) });

  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    const loc = at(firstError.pos[0]);
    let message = `YAML syntax error: ${firstLine(firstError.message)}`;
    if (firstError.code === 'DUPLICATE_KEY') {
      message = `duplicate key${duplicateKeyName(text, firstError.pos)} in the same mapping`;
    }
    const hint = syntaxHints[firstError.code];
    throw new ScalpelError(ErrorCode.RecipeSyntax, message, {
      location: loc,
      ...(hint !== undefined ? { hint } : {}),
    });
  }

  // Aliases to anchors that do not exist are not parse errors in `yaml`, but toJS throws on them.
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        throw new ScalpelError(
          ErrorCode.RecipeSyntax,
          `YAML alias *${node.source} refers to no anchor &${node.source}`,
          {
            location: at(node.range?.[0] ?? 0),
            hint: `define '&${node.source}' on an earlier value, or write the value out`,
          },
        );
      }
    },
  });

  /** Walk to a path; returns the deepest node reached and whether the whole path exists. */
  const walk = (
    path: RecipePath | string,
    options: LocateOptions,
  ): { offset: number; found: boolean; node: unknown } => {
    const segs: PathSegment[] = typeof path === 'string' ? splitDotted(path) : [...path];
    let node: unknown = doc.contents;
    let offset = rangeStart(node) ?? 0;
    let i = 0;
    while (i < segs.length) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const map = node;
        // Longest match first, so a key like "stages.prune.with.density" is found whole.
        let matched = false;
        const maxJ = typeof path === 'string' ? segs.length : i + 1;
        for (let j = maxJ; j > i && !matched; j--) {
          const key = segs.slice(i, j).map(String).join('.');
          const pair = map.items.find((p) => isPair(p) && keyString(p.key) === key);
          if (pair === undefined) continue;
          matched = true;
          const last = j === segs.length;
          const keyOffset = rangeStart(pair.key);
          if (last && options.key === true) {
            return { offset: keyOffset ?? offset, found: true, node: pair.key };
          }
          // An empty value (`key:` and nothing) has a zero-length range: treat it as absent.
          const valueOffset = isEmptyNode(pair.value) ? undefined : rangeStart(pair.value);
          offset = valueOffset ?? keyOffset ?? offset;
          node = pair.value;
          i = j;
          if (pair.value === null || valueOffset === undefined) {
            // `key:` with nothing after it, or a value created by --set: point at the key.
            return { offset, found: i === segs.length, node: pair.value };
          }
        }
        if (!matched) return { offset, found: false, node };
      } else if (isSeq(node)) {
        const index = Number(segs[i]);
        const item: unknown = Number.isInteger(index) ? node.items[index] : undefined;
        if (item === undefined) return { offset, found: false, node };
        offset = rangeStart(item) ?? offset;
        node = item;
        i += 1;
      } else {
        return { offset, found: false, node };
      }
    }
    return { offset, found: true, node };
  };

  return {
    file,
    doc,
    locate(path, options = {}) {
      // No `path` in the location: messages start with the dotted path already, and
      // ScalpelError.format would print it a second time.
      return at(walk(path, options).offset);
    },
    nodeAt(path) {
      const r = walk(path, {});
      return r.found ? r.node : undefined;
    },
    toJSON() {
      try {
        return doc.toJS({ maxAliasCount: 1000 }) as unknown;
      } catch (e) {
        // yaml throws a ReferenceError for alias bombs ("Excessive alias count").
        throw new ScalpelError(
          ErrorCode.RecipeSyntax,
          `YAML could not be converted: ${e instanceof Error ? e.message : String(e)}`,
          { location: at(0), hint: 'avoid deeply nested aliases (*name) in recipes', cause: e },
        );
      }
    },
  };
}

function isEmptyNode(node: unknown): boolean {
  if (!isScalar(node) || node.value !== null) return false;
  const range = node.range;
  return range !== undefined && range !== null && range[0] === range[1];
}

function rangeStart(node: unknown): number | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const range = (node as Partial<YamlNode>).range;
  return Array.isArray(range) ? range[0] : undefined;
}

/** `yaml` reports the duplicate's position; show the key's text in the message. */
function duplicateKeyName(text: string, pos: readonly [number, number]): string {
  const raw =
    text
      .slice(pos[0], pos[0] + 80)
      .split(/:(\s|$)|\n/)[0]
      ?.trim() ?? '';
  return raw !== '' ? ` '${raw}'` : '';
}
