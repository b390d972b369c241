import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { climbs, cycles, importSpecifiers, readGraph, walkClimbs, type Climb, type Graph } from "./support/import-graph.ts";

/**
 * The house rules, measured on the code's own imports (docs/architecture.md draws them): every file of
 * functions/, netlify/ and shared/ belongs to one layer; a layer imports only layers below it; no file
 * imports itself back through others; and the tick's orchestrator reaches the code it runs without
 * climbing back up. The layer table below and the one in docs/architecture.md are held equal.
 */

const root = path.resolve(import.meta.dirname, "..");

/** Top to bottom. A path ending in `/` is a folder; `*` is one path segment. */
export const LAYERS: { name: string; paths: string[] }[] = [
  { name: "entry points", paths: ["functions/"] },
  { name: "platform adapters", paths: ["netlify/"] },
  { name: "configuration", paths: ["shared/config/"] },
  { name: "the tick", paths: ["shared/tick/"] },
  { name: "remediation, load", paths: ["shared/remediation/", "shared/load/"] },
  { name: "cost", paths: ["shared/cost/"] },
  { name: "export", paths: ["shared/export/"] },
  { name: "status", paths: ["shared/status/"] },
  { name: "channels", paths: ["shared/channels/"] },
  { name: "fan-in", paths: ["shared/fanin/"] },
  { name: "alerting", paths: ["shared/alerting/"] },
  { name: "SLOs", paths: ["shared/slo/"] },
  { name: "probe catalog, runner", paths: ["shared/probes/catalog.ts", "shared/runner.ts"] },
  { name: "probes", paths: ["shared/probes/*/"] },
  { name: "probe contract", paths: ["shared/probes/types.ts", "shared/probes/settings.ts"] },
  { name: "ports", paths: ["shared/store/", "shared/beacon/", "shared/sql.ts", "shared/db.ts", "shared/http.ts"] },
  { name: "primitives", paths: ["shared/result.ts", "shared/redact.ts", "shared/log.ts", "shared/error-text.ts", "shared/env-values.ts", "shared/schedule.ts", "shared/parse-prometheus-text-format.d.ts"] },
];

/** Outside the layering: the local Beacon sandbox and its services, which `npm start` runs (a stand-in for Beacon). */
const OUTSIDE = ["test/sandbox/", "test/support/"];

/**
 * Imports allowed to run back up, at most 3, each with a comment at its import site saying why.
 * None is needed today; an entry is `{ from: "shared/x/a.ts", to: "shared/y/b.ts" }`.
 */
const ALLOWED_CLIMBS: Climb[] = [];

/** The tick's orchestrator: walking its imports climbs back up at most this often. */
const TICK = "shared/tick/run.ts";
const TICK_WALK_CLIMBS_MAX = 2;

function matches(file: string, pattern: string): boolean {
  const re = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]+");
  return new RegExp(pattern.endsWith("/") ? `^${re}` : `^${re}$`).test(file);
}

function layersOf(file: string, layers = LAYERS): number[] {
  return layers.flatMap((layer, i) => (layer.paths.some((p) => matches(file, p)) ? [i] : []));
}

const rankIn = (layers: typeof LAYERS) => (file: string): number | undefined => layersOf(file, layers)[0];
const rank = rankIn(LAYERS);
const graph = readGraph(root, ["functions", "netlify", "shared"]);
const edges = Object.entries(graph).flatMap(([from, targets]) => targets.map((to) => ({ from, to })));

describe("the import graph's tools find what they look for (synthetic graphs)", () => {
  it.each<[string, Graph, string[][]]>([
    ["a two-file circle", { "a.ts": ["b.ts"], "b.ts": ["a.ts"] }, [["a.ts", "b.ts"]]],
    ["a three-file circle beside a clean file", { "a.ts": ["b.ts"], "b.ts": ["c.ts"], "c.ts": ["a.ts"], "d.ts": ["a.ts"] }, [["a.ts", "b.ts", "c.ts"]]],
    ["a file importing itself", { "a.ts": ["a.ts"] }, [["a.ts"]]],
    ["a diamond has none", { "a.ts": ["b.ts", "c.ts"], "b.ts": ["d.ts"], "c.ts": ["d.ts"], "d.ts": [] }, []],
  ])("cycles: %s", (_name, g, expected) => {
    expect(cycles(g)).toEqual(expected);
  });

  const layers = [{ name: "top", paths: ["top/"] }, { name: "middle", paths: ["mid/"] }, { name: "bottom", paths: ["low/*/"] }];
  it.each<[string, Graph, number, number]>([
    ["downward only", { "top/t.ts": ["mid/m.ts"], "mid/m.ts": ["low/x/l.ts"], "low/x/l.ts": [] }, 0, 0],
    ["a bottom file importing the top", { "top/t.ts": ["mid/m.ts"], "mid/m.ts": ["low/x/l.ts"], "low/x/l.ts": ["top/t.ts"] }, 1, 1],
    ["a climb the walk never reaches", { "top/t.ts": [], "mid/m.ts": ["low/x/l.ts"], "low/x/l.ts": ["mid/m.ts"] }, 1, 0],
  ])("climbs: %s", (_name, g, all, walked) => {
    expect(climbs(g, rankIn(layers))).toHaveLength(all);
    expect(walkClimbs(g, "top/t.ts", rankIn(layers))).toHaveLength(walked);
  });

  it("reads every kind of import statement, and no lookalike", () => {
    const text = [
      'import { a } from "./a.ts";', 'import type { B } from "../b.ts";', 'export { c } from "./c.ts";', 'import "./d.ts";',
      "import {\n  e,\n  f,\n} from \"./e.ts\";", 'const g = await import("./g.ts");', 'export const h = "./not-an-import.ts";', 'import { z } from "zod";',
    ].join("\n");
    expect(importSpecifiers(text)).toEqual(["./a.ts", "../b.ts", "./c.ts", "./d.ts", "./e.ts", "./g.ts"]);
  });
});

describe("the layers (docs/architecture.md)", () => {
  it("every file belongs to exactly one layer", () => {
    const wrong = Object.keys(graph).filter((f) => layersOf(f).length !== 1).map((f) => `${f}: ${layersOf(f).map((i) => LAYERS[i]!.name).join(", ") || "no layer"}`);
    expect(wrong).toEqual([]);
  });

  it("imports resolve to our files or to the sandbox, and only the platform adapters reach the sandbox", () => {
    const stray = edges.filter(({ from, to }) => !(to in graph) && !(OUTSIDE.some((o) => to.startsWith(o)) && from.startsWith("netlify/")));
    expect(stray).toEqual([]);
  });

  it("no circles: no file imports itself back through others", () => {
    expect(cycles(graph)).toEqual([]);
  });

  it(`at most 3 imports run back up, each listed here and explained where it is made`, () => {
    const found = climbs(graph, rank);
    console.info(`imports: ${Object.keys(graph).length} files, ${edges.length} edges, ${cycles(graph).length} circles, ${found.length} back up`);
    expect(ALLOWED_CLIMBS.length).toBeLessThanOrEqual(3);
    expect(found).toEqual(ALLOWED_CLIMBS);
    for (const { from, to } of ALLOWED_CLIMBS) {
      const lines = fs.readFileSync(path.join(root, from), "utf8").split("\n");
      const at = lines.findIndex((l) => importSpecifiers(l).some((s) => path.posix.join(path.posix.dirname(from), s) === to));
      expect(lines[at - 1] ?? "", `${from} says why it imports ${to}`).toMatch(/^\s*(\/\/|\*|\/\*)/);
    }
  });

  it(`the tick's imports, walked from ${TICK}, climb back up at most ${TICK_WALK_CLIMBS_MAX} times`, () => {
    const walked = walkClimbs(graph, TICK, rank);
    console.info(`tick walk: ${walked.length} climbs back up`);
    expect(walked.length).toBeLessThanOrEqual(TICK_WALK_CLIMBS_MAX);
  });

  it("docs/architecture.md lists the same layers, in the same order, with the same paths", () => {
    const doc = fs.readFileSync(path.join(root, "docs/architecture.md"), "utf8");
    const rows = doc.split("\n").filter((l) => /^\|\s*\d+\s*\|/.test(l)).map((l) => l.split("|").map((c) => c.trim()));
    expect(rows.map((r) => r[2])).toEqual(LAYERS.map((l) => l.name));
    for (const [i, layer] of LAYERS.entries()) for (const p of layer.paths) expect(rows[i]![3], layer.name).toContain(`\`${p}\``);
  });
});
