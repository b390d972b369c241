import { check, type Check, type EventCounts } from "../../result.ts";
import type { RegionCell, RegionsSection } from "./definition.ts";
import type { RegionRow } from "./query.ts";
import type { RegionsSettings } from "./settings.ts";

/**
 * Pure judgement of one run's rows: a check per region (`region:<name>`), SLI events per region
 * (`executions-<name>`), the region × model grid and the next SLI mark.
 */

interface Cause {
  label: string;
  count: number;
  ids: number[];
}

interface Tally {
  started: number;
  completed: number;
  failed: number;
  timedOut: number;
  technical: number;
  refusals: number;
  causes: Map<string, Cause>;
}

const emptyTally = (): Tally => ({ started: 0, completed: 0, failed: 0, timedOut: 0, technical: 0, refusals: 0, causes: new Map() });
const finished = (t: Tally) => t.completed + t.failed + t.timedOut;
const ratio = (t: Tally) => (finished(t) ? t.completed / finished(t) : null);
const pct = (r: number) => `${Math.round(r * 1000) / 10}%`;

function causeLabel(r: RegionRow): string {
  if (r.code === null && r.stage === null && r.outcome === "failed") {
    // The portal path stores a failed row with NULL output: its cause is only in region_results (portalRecord).
    return "no failure code in the row (output_data NULL: the portal path keeps the cause in region_results)";
  }
  const where = `${r.stage ?? "?"}/${r.component ?? "?"}`;
  const transient = r.transient === true ? "transient" : r.transient === false ? "not transient" : "transience unknown";
  const waited = r.code === "ROUTER_NETWORK" && r.outcome === "timeout" && typeof r.max_wait_s === "number"
    ? ` after up to ${Math.round(r.max_wait_s)} s: the router or provider did not answer within the runner's HTTP client timeout`
    : "";
  return `${r.code ?? (r.outcome === "timeout" ? "timeout" : "no failure code")}${waited} (${where}, ${transient})`;
}

function add(t: Tally, r: RegionRow, n: number, idsInScope: number[]) {
  t.started += n;
  if (r.outcome === "completed") t.completed += n;
  else if (r.outcome === "failed") t.failed += n;
  else if (r.outcome === "timeout") t.timedOut += n;
  if (r.outcome === "failed" || r.outcome === "timeout") {
    const label = causeLabel(r);
    const cause = t.causes.get(label) ?? { label, count: 0, ids: [] };
    cause.count += n;
    cause.ids.push(...idsInScope);
    t.causes.set(label, cause);
  }
}

function dominant(t: Tally): Cause | undefined {
  return [...t.causes.values()].sort((a, b) => b.count - a.count || a.label.localeCompare(b.label))[0];
}

/** `executions-<region>`: an SLI event name (lower-case letters, digits and dashes only). */
export function regionEvent(region: string): string {
  return `executions-${region.toLowerCase().replace(/[^a-z0-9-]+/g, "-")}`;
}

export interface RegionJudgement {
  checks: Check[];
  events: Record<string, EventCounts>;
  grid: RegionsSection;
  /** Highest finished execution id seen (the next run counts above it), or the previous mark. */
  mark: number | null;
}

type Settings = Pick<RegionsSettings, "successThreshold" | "minExecutions" | "windowSeconds" | "gridWindowSeconds" | "expectedRegions" | "exampleIds">
  & Partial<Pick<RegionsSettings, "gridRowLimit">>;

export function judgeRegions(rows: RegionRow[], previousMark: number | null, s: Settings, now: Date): RegionJudgement {
  const grid = new Map<string, Tally>();
  const window = new Map<string, Tally>();
  const perModel = new Map<string, Map<string, Tally>>();
  const fresh = new Map<string, { good: number; total: number }>();
  const asked = new Map<string, { jobs: number; missing: number; ids: string[] }>();
  const portal = new Map<string, PortalRecord[]>();
  let mark = previousMark;
  for (const r of rows) {
    if (r.kind === "ask" && r.region) asked.set(r.region, { jobs: r.value ?? 0, missing: r.n_window ?? 0, ids: (r.ids ?? []).map(String) });
    if (r.kind === "portal" && r.region && r.outcome !== "success") {
      const list = portal.get(r.region) ?? portal.set(r.region, []).get(r.region)!;
      list.push({ status: r.outcome, error: r.code, runs: r.n_grid ?? 0, waitS: r.max_wait_s ?? null, jobs: (r.ids ?? []).map(String) });
    }
    if (r.kind !== "cell" || r.region === null) continue;
    const key = `${r.region}\u0000${r.model ?? ""}`;
    const ids = (r.ids ?? []).map(Number);
    const cell = grid.get(key) ?? grid.set(key, emptyTally()).get(key)!;
    add(cell, r, r.n_grid ?? 0, ids);
    cell.technical += r.technical ?? 0;
    cell.refusals += r.refusals ?? 0;
    const models = perModel.get(r.region) ?? perModel.set(r.region, new Map()).get(r.region)!;
    const inWindow = r.n_window ?? 0;
    if (inWindow > 0) {
      add(window.get(r.region) ?? window.set(r.region, emptyTally()).get(r.region)!, r, inWindow, ids.slice(0, inWindow));
      add(models.get(r.model ?? "") ?? models.set(r.model ?? "", emptyTally()).get(r.model ?? "")!, r, inWindow, ids.slice(0, inWindow));
    }
    const ev = fresh.get(r.region) ?? fresh.set(r.region, { good: 0, total: 0 }).get(r.region)!;
    ev.total += r.n_new ?? 0;
    if (r.outcome === "completed") ev.good += r.n_new ?? 0;
    if (r.outcome !== "started" && r.max_id !== null) mark = Math.max(mark ?? 0, Number(r.max_id));
  }

  const regions = [...new Set([...s.expectedRegions, ...window.keys(), ...asked.keys(), ...[...grid.keys()].map((k) => k.split("\u0000")[0]!)])].sort();
  const healthy = (region: string) => {
    const t = window.get(region);
    const r = t && ratio(t);
    return t !== undefined && finished(t) >= s.minExecutions && r !== null && r !== undefined && r >= s.successThreshold;
  };
  const span = s.windowSeconds >= 120 ? `${Math.round(s.windowSeconds / 60)} min` : `${s.windowSeconds} s`;
  // The grid stopped at its row cap: its counts (and the window's, when the cap came first) cover less.
  const clock = rows.find((r) => r.kind === "clock");
  const capped = s.gridRowLimit !== undefined && clock?.n_grid != null && clock.n_grid >= s.gridRowLimit
    ? `; only the newest ${clock.n_grid} executions were read (gridRowLimit), reaching back ${Math.round((clock.n_window ?? 0) / 60)} min`
    : "";
  const day = (region: string) => [...grid.entries()].filter(([k]) => k.startsWith(`${region}\u0000`)).map(([, t]) => t);
  const checks = regions.map((region) => judgeRegion(region, {
    day: day(region).reduce((a, t) => ({ started: a.started + t.started, technical: a.technical + t.technical, refusals: a.refusals + t.refusals }), { started: 0, technical: 0, refusals: 0 }),
    tally: window.get(region) ?? emptyTally(), models: perModel.get(region) ?? new Map(), asked: asked.get(region), portal: portal.get(region) ?? [],
    others: regions.filter((o) => o !== region && healthy(o)), span, s,
  })).map((c) => (capped ? { ...c, message: `${c.message}${capped}` } : c));

  const cells: RegionCell[] = [...grid.entries()].map(([key, t]): RegionCell => {
    const [region, model] = key.split("\u0000") as [string, string];
    const r = ratio(t);
    const cause = dominant(t);
    return {
      region, model, started: t.started, completed: t.completed, failed: t.failed, timedOut: t.timedOut,
      technicalErrors: t.technical, refusals: t.refusals, successRatio: r,
      state: r === null ? "unknown" : r >= s.successThreshold ? "pass" : finished(t) >= s.minExecutions ? "fail" : "warn",
      dominantCause: cause ? `${cause.label} ×${cause.count}` : null,
    };
  }).sort((a, b) => a.region.localeCompare(b.region) || a.model.localeCompare(b.model));
  const events = Object.fromEntries([...fresh.entries()].filter(([, c]) => c.total > 0).map(([region, c]) => [regionEvent(region), c]));
  return {
    checks, events, mark,
    grid: {
      evaluatedAt: now.toISOString(), windowHours: s.gridWindowSeconds / 3600, regions,
      models: [...new Set(cells.map((c) => c.model))].sort(), cells,
    },
  };
}

/** The portal path's own record of the region in its finished runs, when not a success (query.ts, `portal`). */
interface PortalRecord {
  /** region_results.status (`failed`, `timeout`, …); null: no region_results row, the run did not plan the region; `unplanned`: the run planned nothing. */
  status: string | null;
  error: string | null;
  runs: number;
  /** Longest duration_ms of those rows, in seconds. */
  waitS: number | null;
  jobs: string[];
}

/** "region_results failed "all executions failed" ×2 after up to 600 s", in the runner's own words. */
export function portalRecordLabel(p: PortalRecord): string {
  if (p.status === null) {
    return "not run: the cross-region run planned no execution there (the router listed no provider for the region: cross_region_executor.go:281-292)";
  }
  if (p.status === "unplanned") {
    return "not run: the run's plan failed (fewer regions with a provider than min_regions), no region ran and the job stays queued (cross_region_handlers.go:331-343)";
  }
  const after = p.waitS !== null ? ` after up to ${Math.round(p.waitS)} s` : "";
  return `region_results ${p.status}${p.error ? ` "${p.error}"` : ""}${after}`;
}

interface RegionFacts {
  /** Over the grid window: executions started, technical errors, refusals. */
  day: { started: number; technical: number; refusals: number };
  tally: Tally;
  models: Map<string, Tally>;
  asked: { jobs: number; missing: number; ids: string[] } | undefined;
  /** The portal path's record of the region where it was not a success. */
  portal: PortalRecord[];
  /** Other regions that succeed in the window. */
  others: string[];
  /** The judging window in words, e.g. "60 min". */
  span: string;
  s: Settings;
}

function judgeRegion(region: string, f: RegionFacts): Check {
  const { tally, s } = f;
  const done = finished(tally);
  const r = ratio(tally);
  const hours = Math.round(s.gridWindowSeconds / 360) / 10;
  const rates = f.day.started
    ? `; in ${hours} h ${f.day.started} executions, technical errors ${pct(f.day.technical / f.day.started)}, refusals ${pct(f.day.refusals / f.day.started)}`
    : "";
  const threshold = `>= ${pct(s.successThreshold)} of finished executions completed (at least ${s.minExecutions} to judge), and an execution for every job that asked for ${region}`;
  const problems: string[] = [];
  const evidence: string[] = [];
  const low = r !== null && done >= s.minExecutions && r < s.successThreshold;
  if (low) {
    const cause = dominant(tally);
    const besides = f.others.length ? `while ${f.others.join(", ")} succeed` : "as do the other regions (not regional)";
    const all = [...tally.causes.values()].sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
    const others = all.length > 1 ? `; all causes: ${all.map((c) => `${c.label} ×${c.count}`).join(", ")}` : "";
    problems.push(`${tally.completed} of ${done} finished executions completed (${pct(r)}) in the last ${f.span}, ${besides}; dominant cause ${cause ? `${cause.label} ×${cause.count}` : "unknown"}${others}${rates}`);
    for (const [model, t] of [...f.models.entries()].sort()) {
      const c = dominant(t);
      if (t.failed + t.timedOut === 0) continue;
      evidence.push(`${region}/${model || "(no model)"}: ${t.failed + t.timedOut} of ${finished(t)} failed${c ? `, mostly ${c.label} ×${c.count}` : ""}`);
    }
    for (const [model, t] of [...f.models.entries()].sort()) {
      const c = dominant(t);
      for (const id of (c?.ids ?? []).slice(0, s.exampleIds)) evidence.push(`execution ${id}: ${region}/${model || "(no model)"} ${c!.label}`);
    }
  }
  if (f.asked && f.asked.missing > 0) {
    problems.push(`${f.asked.missing} of ${f.asked.jobs} jobs that asked for ${region} in the last ${f.span} have no execution there: the region stopped appearing`);
    for (const id of f.asked.ids) evidence.push(`job ${id}: asked for ${region}, no execution in ${region}`);
  }
  if (problems.length && f.portal.length) {
    // The portal path's failed rows carry no cause: the runner's own words are in region_results.
    const record = [...f.portal].sort((a, b) => b.runs - a.runs);
    problems.push(`the runner's record of its portal runs: ${record.map((p) => `${portalRecordLabel(p)} ×${p.runs}`).join(", ")}`);
    for (const p of record) for (const id of p.jobs.slice(0, s.exampleIds)) evidence.push(`job ${id}: ${region} ${portalRecordLabel(p)}`);
  }
  const status = problems.length ? "fail" : "pass";
  const observed = r === null ? null : Math.round(r * 1000) / 1000;
  const message = problems.length
    ? `${region}: ${problems.join("; ")} (jobs may still read completed: Beacon completes a job at min_success_rate)`
    : done === 0
      ? `${region}: no finished execution in the last ${f.span}${f.asked ? ` (${f.asked.jobs} jobs asked for it, every one has an execution there)` : ""}`
      : `${region}: ${tally.completed} of ${done} finished executions completed (${pct(r!)}) in the last ${f.span}${done < s.minExecutions ? `, too few to judge (${s.minExecutions})` : ""}${rates}`;
  return check({ name: `region:${region}`, status, observed, threshold, message, evidence });
}
