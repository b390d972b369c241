/**
 * The bench's verdict on the cost model: each figure of `beacon-sentinel cost` as the simulated month
 * counted it beside what shared/cost/model.ts predicts for the same configuration. Pure, so a test
 * (test/cost-bench.test.ts) holds the flagging rule; the month itself is test/bench/month.ts.
 */

/** A disagreement past this fraction of the model's figure is flagged (issue 22: "agree within 10%"). */
export const TOLERANCE = 0.1;

/** One figure: what was counted (and how: counted whole, or counted over part of the month and scaled) and what the model says. */
export interface Figure {
  /** The service the figure is billed by, as `beacon-sentinel cost` groups them. */
  group: string;
  name: string;
  counted: number;
  model: number;
  /** How `counted` was obtained, e.g. "counted, 30 d" or "counted 1 d, x 30". */
  basis: string;
  /** Decimals to print (default 0: a count). */
  decimals?: number;
}

export interface Compared extends Figure {
  /** counted / model; Infinity when the model says 0 and something was counted, 1 when both are 0. */
  ratio: number;
  /** The two disagree by more than the tolerance. */
  flagged: boolean;
}

export function compareFigure(figure: Figure, tolerance = TOLERANCE): Compared {
  const ratio = figure.model === 0 ? (figure.counted === 0 ? 1 : Infinity) : figure.counted / figure.model;
  return { ...figure, ratio, flagged: !(Math.abs(ratio - 1) <= tolerance) };
}

export function compareFigures(figures: readonly Figure[], tolerance = TOLERANCE): Compared[] {
  return figures.map((f) => compareFigure(f, tolerance));
}

/** The comparison as a table, one line per figure, flagged lines marked `<-- off by more than 10%`. */
export function comparisonTable(rows: readonly Compared[], tolerance = TOLERANCE): string {
  const fmt = (x: number, decimals = 0) => x.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  const cells = rows.map((r) => [
    `${r.group}: ${r.name}`, fmt(r.counted, r.decimals), fmt(r.model, r.decimals), Number.isFinite(r.ratio) ? r.ratio.toFixed(3) : "inf", r.basis,
    r.flagged ? `<-- off by more than ${Math.round(tolerance * 100)}%` : "",
  ]);
  const header = ["figure", "counted", "model", "ratio", "how counted", ""];
  const all = [header, ...cells];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 1 || i === 2 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

/**
 * Minutes something stays awake when each touched minute wakes it and it sleeps after `idleMinutes`
 * quiet minutes, over a span of `spanMinutes` taken as repeating (the span is a whole number of the
 * schedules' periods, so its end wakes its start as the next period's would). Counted from what was
 * observed, independently of the model's own reckoning from the schedules.
 */
export function awakeMinutes(touched: Iterable<number>, idleMinutes: number, spanMinutes: number): number {
  const awake = new Uint8Array(spanMinutes);
  for (const m of touched) for (let k = 0; k < idleMinutes; k++) awake[(((m + k) % spanMinutes) + spanMinutes) % spanMinutes] = 1;
  return awake.reduce((a, b) => a + b, 0);
}
