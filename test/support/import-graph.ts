import fs from "node:fs";
import path from "node:path";

/**
 * The project's own import graph, read from the source the way a reader sees it: every relative
 * `import ... from`, `import type ... from`, `export ... from`, bare `import "..."` and dynamic
 * `import("...")`, resolved to a file (with `.ts` or `/index.ts` added when the specifier has none).
 * Package imports are not edges. The algorithms below take any graph, so a test can feed them a
 * synthetic one and see them fail.
 */

/** file → the files it imports, each once, as paths relative to the root. */
export type Graph = Record<string, string[]>;

/** A statement at the start of a line, up to its specifier; the import clause holds no quote, `=` or `;`. */
const STATIC = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";=]*?\sfrom\s+)?["'](\.{1,2}\/[^"']+)["']/gm;
const DYNAMIC = /\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;
const SOURCE = /\.(ts|mts|mjs)$/;

export function sourceFiles(root: string, dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (SOURCE.test(entry.name)) out.push(rel);
    }
  };
  for (const dir of dirs) walk(dir);
  return out.sort();
}

/** The relative specifiers a source text imports, in order of appearance. */
export function importSpecifiers(text: string): string[] {
  return [...text.matchAll(STATIC), ...text.matchAll(DYNAMIC)].sort((a, b) => a.index - b.index).map((m) => m[1]!);
}

/** Where `specifier` imported from `file` lands, relative to the root (the file need not be a source file). */
export function resolveImport(root: string, file: string, specifier: string): string {
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
  if (fs.existsSync(path.join(root, target)) && fs.statSync(path.join(root, target)).isFile()) return target;
  if (fs.existsSync(path.join(root, `${target}.ts`))) return `${target}.ts`;
  return path.posix.join(target, "index.ts");
}

export function readGraph(root: string, dirs: readonly string[]): Graph {
  const graph: Graph = {};
  for (const file of sourceFiles(root, dirs)) {
    const text = fs.readFileSync(path.join(root, file), "utf8");
    graph[file] = [...new Set(importSpecifiers(text).map((s) => resolveImport(root, file, s)))];
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself: the circles. */
export function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph[v] ?? []) {
      if (!(w in graph)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph[v] ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of Object.keys(graph)) if (!index.has(v)) visit(v);
  return found;
}

/** An import from a file in a lower layer to a file in a higher one (`rank`: 0 is the top). */
export interface Climb {
  from: string;
  to: string;
}

/** Every import that runs back up: its target's layer is above its source's. Files without a rank are skipped. */
export function climbs(graph: Graph, rank: (file: string) => number | undefined): Climb[] {
  const out: Climb[] = [];
  for (const [from, targets] of Object.entries(graph)) {
    const r = rank(from);
    if (r === undefined) continue;
    for (const to of targets) {
      const t = rank(to);
      if (t !== undefined && t < r) out.push({ from, to });
    }
  }
  return out;
}

/** The files `start` reaches through its imports, itself included. */
export function reach(graph: Graph, start: string): Set<string> {
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...(graph[f] ?? []));
  }
  return seen;
}

/** The climbs met walking from `start`: every import among the files it reaches that runs back up. */
export function walkClimbs(graph: Graph, start: string, rank: (file: string) => number | undefined): Climb[] {
  const reached = reach(graph, start);
  const sub = Object.fromEntries(Object.entries(graph).filter(([f]) => reached.has(f)));
  return climbs(sub, rank);
}
