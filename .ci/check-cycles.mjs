// Fails (exit 1) on any import cycle in src/: the file rules of .dependency-cruiser.cjs, and a
// cycle between the top-level folders of src/ (each module collapsed to src/<folder>, or to
// src/<file> for files directly in src/; strongly connected components of that graph). One
// cruise serves both checks. dependency-cruiser's own `scope: 'folder'` compares every nested
// folder separately, so it misses a cycle such as data → models/hf, models → data.
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const options = await extractDepcruiseOptions('./.dependency-cruiser.cjs');
const tsConfig = extractTSConfig('tsconfig.json');
const { output } = await cruise(['src'], { ...options, outputType: 'json' }, {}, { tsConfig });
const result = typeof output === 'string' ? JSON.parse(output) : output;

const problems = [];
// One bad import can close dozens of file cycles; the first few name it.
const shown = 12;
const violations = result.summary.violations;
for (const v of violations.slice(0, shown)) {
  const path = v.cycle ? v.cycle.map((step) => step.name) : [v.to];
  problems.push(`${v.rule.name}: ${v.from} → ${path.join(' → ')}`);
}
if (violations.length > shown) problems.push(`… and ${violations.length - shown} more file cycles`);

/** src/engine/run.ts → src/engine; src/errors.ts stays itself. */
const folderOf = (file) => /^src\/[^/]+/.exec(file)?.[0] ?? file;

// Folder edges, each with one file import that makes it (for the message).
const edges = new Map();
for (const m of result.modules) {
  if (!m.source.startsWith('src/')) continue;
  for (const d of m.dependencies) {
    if (!d.resolved.startsWith('src/')) continue;
    const from = folderOf(m.source);
    const to = folderOf(d.resolved);
    if (from === to) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${m.source} → ${d.resolved}`);
  }
}

for (const component of stronglyConnected(edges)) {
  if (component.length < 2) continue;
  const inside = new Set(component);
  const lines = [];
  for (const from of component) {
    for (const [to, example] of edges.get(from) ?? []) {
      if (inside.has(to)) lines.push(`    ${from} → ${to}  (${example})`);
    }
  }
  problems.push(`no-folder-cycle: ${component.join(', ')}\n${lines.join('\n')}`);
}

if (problems.length > 0) {
  console.error(`import cycles in src/:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(
  `no import cycles (${result.summary.totalCruised} modules, files and top-level folders)`,
);

/** Tarjan's algorithm: the strongly connected components of a graph given as adjacency maps. */
function stronglyConnected(graph) {
  const nodes = new Set([...graph.keys(), ...[...graph.values()].flatMap((m) => [...m.keys()])]);
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  let next = 0;
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component.sort());
    }
  };
  for (const v of [...nodes].sort()) if (!index.has(v)) visit(v);
  return components;
}
