#!/usr/bin/env node
// Import rules for src/: no import cycles, and only src/commands/ and src/pool/ import src/pool/.
// Our own check rather than madge or dependency-cruiser: TypeScript's own scanner (already a dev
// dependency) finds every import, `import type` and `export ... from` included, in a few lines.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
const files = readdirSync(root, { recursive: true })
  .filter((f) => /\.(?:ts|mts|cts)$/.test(f) && !f.endsWith('.d.ts'))
  .map((f) => f.split(path.sep).join('/'));
const known = new Set(files);
const graph = new Map();
for (const file of files) {
  const { importedFiles } = ts.preProcessFile(readFileSync(path.join(root, file), 'utf8'), true, true);
  const targets = importedFiles
    .map(({ fileName }) => fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => path.posix.join(path.posix.dirname(file), spec).replace(/\.(m|c)?js$/, '.$1ts'))
    .map((spec) => (known.has(spec) ? spec : `${spec}/index.ts`))
    .filter((spec) => known.has(spec));
  graph.set(file, [...new Set(targets)]);
}

const problems = [];
for (const [file, targets] of graph) {
  if (/^(?:commands|pool)\//.test(file)) continue;
  for (const target of targets.filter((t) => t.startsWith('pool/'))) {
    problems.push(`src/${file} imports src/${target}: only src/commands/ and src/pool/ may import src/pool/`);
  }
}

// A depth-first walk: an edge back to a file still on the path closes a cycle.
const state = new Map();
const stack = [];
function visit(file) {
  state.set(file, 'open');
  stack.push(file);
  for (const target of graph.get(file)) {
    if (state.get(target) === 'open')
      problems.push(
        `import cycle: ${[...stack.slice(stack.indexOf(target)), target].map((f) => `src/${f}`).join(' -> ')}`,
      );
    else if (!state.has(target)) visit(target);
  }
  stack.pop();
  state.set(file, 'done');
}
for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);

for (const problem of problems) console.error(problem);
if (problems.length > 0) process.exitCode = 1;
else
  console.log(
    `check-imports: ${files.length} files in src/, no import cycle, no pool/ import outside commands/ and pool/`,
  );
