import type { State } from "./schema.ts";

/**
 * HTML helpers for the status page. Everything shown there can come from a probed system (evidence,
 * messages, check names), so every interpolated value goes through `esc`; attributes are always quoted.
 */
export function esc(value: unknown): string {
  return String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** The word (never the colour alone) and the symbol that stand for a state. */
export const LABEL: Record<State, string> = { pass: "Passing", warn: "Degraded", fail: "Failing", error: "Blind", unknown: "Unknown" };
export const SYMBOL: Record<State, string> = { pass: "✓", warn: "!", fail: "✕", error: "?", unknown: "–" };
/** What "blind" means, for the tooltip and the legend. */
export const MEANING: Record<State, string> = {
  pass: "measured and within bounds",
  warn: "measured and degraded",
  fail: "measured and out of bounds",
  error: "the probe could not measure, or stopped reporting",
  unknown: "nothing to go on yet",
};

export function badge(state: State): string {
  return `<span class="badge s-${state}" title="${esc(MEANING[state])}"><span aria-hidden="true">${SYMBOL[state]}</span> ${LABEL[state]}</span>`;
}

/** "2026-05-01 10:15 UTC" */
export function utc(iso: string | null | undefined): string {
  if (!iso) return "never";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "unknown time" : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** "3 min ago", relative to `now`. */
export function ago(iso: string | null | undefined, now: Date): string {
  if (!iso) return "never";
  const s = Math.max(0, (now.getTime() - Date.parse(iso)) / 1000);
  if (s < 90) return `${Math.round(s)} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return "n/a";
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

export function pct(ratio: number | null | undefined, digits = 2): string {
  return ratio === null || ratio === undefined ? "n/a" : `${(ratio * 100).toFixed(digits)}%`;
}
