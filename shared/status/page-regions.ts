import type { RegionCell } from "../probes/regions/definition.ts";
import type { StatusDocument } from "./schema.ts";
import { badge, esc, utc } from "./html.ts";

/**
 * The region × model grid of the last 24 hours (the `regions` probe's latest run): one row per region,
 * one column per model, each cell its state (word and symbol, never colour alone), success ratio,
 * executions, failures, timeouts, technical errors, refusals and dominant cause. Nothing when the probe
 * has not run. Uses the page's existing `.slos` table style, so it adds no CSS.
 */
export function regionsSection(doc: StatusDocument): string {
  const grid = doc.regions;
  if (!grid) return "";
  const heading = `<h2 id="regions-h">Regions and models, last ${esc(grid.windowHours)} h</h2>`;
  if (grid.cells.length === 0) {
    return `<section aria-labelledby="regions-h">${heading}<p>No execution in the window${grid.regions.length ? ` (regions expected: ${esc(grid.regions.join(", "))})` : ""}.</p></section>`;
  }
  const cellOf = (region: string, model: string) => grid.cells.find((c) => c.region === region && c.model === model);
  const head = grid.models.map((m) => `<th scope="col">${esc(m || "(no model)")}</th>`).join("");
  const rows = grid.regions.map((region) => {
    const cells = grid.models.map((model) => `<td>${cell(cellOf(region, model))}</td>`).join("");
    return `<tr><th scope="row">${esc(region)}</th>${cells}</tr>`;
  }).join("\n");
  return `<section aria-labelledby="regions-h">${heading}
<table class="data regions"><caption>Executions per region and model since ${esc(utc(new Date(Date.parse(grid.evaluatedAt) - grid.windowHours * 3_600_000).toISOString()))} (evaluated ${esc(utc(grid.evaluatedAt))})</caption>
<thead><tr><th scope="col">Region</th>${head}</tr></thead>
<tbody>
${rows}
</tbody></table></section>`;
}

function cell(c: RegionCell | undefined): string {
  if (!c) return `${badge("unknown")}<br><small>no execution</small>`;
  const ratio = c.successRatio === null ? "none finished" : `${Math.round(c.successRatio * 1000) / 10}% succeeded`;
  const parts = [`${c.started} started`, `${c.failed} failed`, `${c.timedOut} timed out`, `${c.technicalErrors} technical errors`, `${c.refusals} refusals`];
  return `${badge(c.state)} ${esc(ratio)}<br><small>${esc(parts.join(" · "))}</small>${c.dominantCause ? `<br><small>cause: ${esc(c.dominantCause)}</small>` : ""}`;
}
