import type { Check } from "../result.ts";
import type { SloEntry, TimelineSlot } from "./schema.ts";
import { budgetText, budgetView, percent } from "./format.ts";
import { esc, LABEL, ms } from "./html.ts";

/**
 * Inline SVG pictures of the status page. Each carries a text alternative that says what the picture
 * shows (role="img" + aria-label), and each coloured mark a <title> naming its state in words.
 */

const hhmm = (iso: string) => iso.slice(11, 16);

/** 24 hours as a strip of slots coloured by their worst outcome. */
export function timelineSvg(slots: TimelineSlot[], probeTitle: string): string {
  const counts = new Map<string, number>();
  for (const s of slots) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
  const summary = [...counts].map(([state, n]) => `${n} ${LABEL[state as TimelineSlot["state"]].toLowerCase()}`).join(", ");
  const slotMinutes = Math.round((24 * 60) / Math.max(slots.length, 1));
  const rects = slots.map((s, i) => {
    const tip = `${hhmm(s.start)} UTC, ${slotMinutes} min: ${LABEL[s.state]}${s.runs ? ` (${s.runs} runs, ${s.notPassing} not passing)` : " (no runs)"}`;
    return `<rect x="${i}" y="0" width="0.86" height="10" class="f-${s.state}"><title>${esc(tip)}</title></rect>`;
  });
  return `<svg class="timeline" viewBox="0 0 ${slots.length} 10" preserveAspectRatio="none" role="img" aria-label="${esc(`${probeTitle}, last 24 hours in ${slotMinutes}-minute slots: ${summary}`)}">${rects.join("")}</svg>`;
}

/** Mean run time per slot as a line, the slowest run per slot as faint bars. */
export function latencySvg(slots: TimelineSlot[], probeTitle: string): string {
  const peak = Math.max(1, ...slots.map((s) => s.maxMs ?? 0));
  const y = (v: number) => (24 - (v / peak) * 22).toFixed(2);
  const segments: string[][] = [[]];
  slots.forEach((s, i) => {
    if (s.meanMs === null) segments.push([]);
    else segments.at(-1)!.push(`${i + 0.5},${y(s.meanMs)}`);
  });
  const lines = segments.filter((seg) => seg.length).map((seg) =>
    seg.length === 1 ? `<circle cx="${seg[0]!.split(",")[0]}" cy="${seg[0]!.split(",")[1]}" r="0.8" class="spark"/>` : `<polyline points="${seg.join(" ")}" class="spark"/>`);
  const bars = slots.map((s, i) => (s.maxMs === null ? "" : `<rect x="${i + 0.1}" y="${y(s.maxMs)}" width="0.8" height="${(24 - Number(y(s.maxMs))).toFixed(2)}" class="peak"/>`));
  const medians = slots.flatMap((s) => (s.meanMs === null ? [] : [s.meanMs])).sort((a, b) => a - b);
  const median = medians.length ? medians[Math.floor((medians.length - 1) / 2)]! : null;
  const last = [...slots].reverse().find((s) => s.meanMs !== null)?.meanMs ?? null;
  const label = medians.length
    ? `${probeTitle} run time over 24 hours: typical ${ms(median)}, slowest ${ms(peak)}, latest ${ms(last)}`
    : `${probeTitle} run time over 24 hours: no runs recorded`;
  return `<svg class="latency" viewBox="0 0 ${slots.length} 24" preserveAspectRatio="none" role="img" aria-label="${esc(label)}">${bars.join("")}${lines.join("")}</svg>`;
}

/** Share of the error budget left as a bar; overspent budgets show empty, too few events show no bar, each in words. */
export function budgetBar(slo: Pick<SloEntry, "budgetRemaining" | "budgetRemainingMinutes" | "events" | "enoughEvents">): string {
  const v = budgetView(slo);
  if (v.kind === "no-events" || v.kind === "not-enough") {
    return `<div class="bar" role="img" aria-label="${esc(budgetText(slo))}: budget not judged"><span class="fill f-unknown" style="width:0%"></span></div>`;
  }
  const remaining = v.kind === "left" ? v.ratio : -v.ratio;
  const width = Math.max(0, Math.min(1, remaining)) * 100;
  const state = remaining <= 0 ? "fail" : remaining < 0.25 ? "warn" : "pass";
  const words = v.kind === "overspent" ? `error budget overspent by ${percent(v.ratio)}` : `${percent(v.ratio)} of the error budget left`;
  return `<div class="bar" role="img" aria-label="${esc(words)}"><span class="fill f-${state}" style="width:${width.toFixed(1)}%"></span></div>`;
}

/** Checks named `stage:<name>` (the canary's per-stage timings) as a waterfall, in the order they ran. */
export function stageTimings(checks: Check[]): string {
  const stages = checks.filter((c) => c.name.startsWith("stage:"));
  if (!stages.length) return "";
  // The canary reports each stage's `observed` as seconds since submission (cumulative), so a stage's
  // bar runs from the previous reached stage to its own mark.
  const marks = stages.map((c) => (typeof c.observed === "number" && c.observed >= 0 ? c.observed : null));
  const total = Math.max(1, ...marks.map((m) => m ?? 0));
  let previous = 0;
  const rows = stages.map((c, i) => {
    const mark = marks[i] ?? null;
    const start = previous;
    const end = mark ?? start;
    if (mark !== null) previous = Math.max(previous, mark);
    const name = c.name.slice("stage:".length);
    // No timing: a stage that passed without one (a path with no such step) says so, never "not reached · Passing".
    const observed = mark !== null ? `at ${secondsText(mark)}` : esc(typeof c.observed === "string" ? c.observed : c.status === "pass" ? "no timing" : "not reached");
    return `<li class="s-row"><span class="s-name">${esc(name)}</span>` +
      `<span class="s-track" aria-hidden="true"><span class="s-seg f-${c.status}" style="margin-left:${((start / total) * 100).toFixed(2)}%;width:${Math.max(0.5, ((end - start) / total) * 100).toFixed(2)}%"></span></span>` +
      `<span class="s-val">${observed} · ${LABEL[c.status]}</span>${c.status === "pass" ? "" : `<span class="s-msg">${esc(c.message)}</span>`}</li>`;
  });
  return `<ol class="stages" aria-label="Stage timings, in order">${rows.join("")}</ol>`;
}

function secondsText(seconds: number): string {
  return seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds * 10) / 10} s`;
}
