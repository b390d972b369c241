import type { StatusDocument } from "./schema.ts";
import { badge, esc, LABEL } from "./html.ts";
import { DAY_BLIND_FROM, DAY_FAIL_BELOW, HISTORY_DAYS } from "./days.ts";
import { historyReport, outcomesText, tallied, uptimeText, type StageDay, type StageHistory } from "./days-report.ts";

/**
 * "Uptime, last 90 days": one row of day bars per stage, in pipeline order, as Statuspage draws its
 * components. Each bar is a list item in the tab order; its details (date, state, uptime, runs by
 * outcome, the stage's incidents that day with links to their stories) show on hover and on focus
 * (CSS only: `:hover`/`:focus-within`, so a keyboard reaches the links inside), and its aria-label
 * says the same in one sentence. Narrow screens show fewer, wider days, as Statuspage does: 60 under
 * 900 px, 30 under 640 px (older bars get `o60`/`o30` and are hidden), and the uptime, incident count
 * and heading follow the days shown (`w90`/`w60`/`w30`). Nothing when the document has no history.
 */

/** The windows the page can show, widest first, with the widest screen that shows each (none: the default). */
const WINDOWS = [[90, null], [60, 900], [30, 640]] as const;

export const DAYS_CSS = `
.uptime{list-style:none;padding:0;margin:0}.u-stage{margin:0 0 18px}.u-head{display:flex;flex-wrap:wrap;justify-content:space-between;gap:4px 12px;align-items:baseline}
.u-head h3{margin:0}.u-sum{font-size:.85em;color:var(--muted)}
.days{list-style:none;display:flex;gap:2px;padding:0;margin:4px 0 0;height:30px;position:relative}
.day{flex:1 1 0;min-width:0;border-radius:2px;cursor:default}.day.f-unknown{background:#eaeef2;border:1px solid var(--line)}
.day:hover,.day:focus{outline:2px solid var(--fg);outline-offset:1px}.day:focus-visible{outline:3px solid #0969da}
.day .tip{display:none;position:absolute;left:0;right:0;top:100%;z-index:2;margin:0;padding:6px 10px;background:var(--bg);color:var(--fg);border:1px solid var(--muted);border-radius:6px;box-shadow:0 4px 12px rgba(0,0,0,.15);font-size:.9em}
.day:hover .tip,.day:focus .tip,.day:focus-within .tip{display:block}.tip p{margin:2px 0}.tip ul{margin:2px 0;padding-left:18px}
.u-axis{display:flex;justify-content:space-between;font-size:.8em;color:var(--muted);margin:2px 0 0}
.w60,.w30{display:none}
@media (max-width:900px){.w90,.o60{display:none}.w60{display:inline}}
@media (max-width:640px){.w60,.o30{display:none}.w30{display:inline}}
`;

/**
 * 630 bars (7 stages × 90 days) would be 630 Tab presses to get past the section, so with JavaScript
 * each stage's row is one Tab stop (its latest bar), and ← → Home End move between its days (a roving
 * tabindex, as in the ARIA toolbar pattern), skipping the bars a narrow screen hides. Without
 * JavaScript every bar stays in the tab order. Re-applied when the page's refresh swaps <main>.
 */
export const DAYS_SCRIPT = `(()=>{const visible=(row)=>[...row.children].filter((b)=>b.getClientRects().length);
const rove=()=>{for(const row of document.querySelectorAll("ol.days:not([data-roving])")){row.dataset.roving="";const bars=[...row.children];bars.forEach((b,i)=>{b.tabIndex=i===bars.length-1?0:-1})}};
document.addEventListener("keydown",(e)=>{const bar=e.target;if(!(bar instanceof HTMLElement)||!bar.matches("ol.days>.day"))return;
const bars=visible(bar.parentElement),i=bars.indexOf(bar),to={ArrowLeft:i-1,ArrowRight:i+1,Home:0,End:bars.length-1}[e.key];if(to===undefined)return;
e.preventDefault();const next=bars[Math.max(0,Math.min(bars.length-1,to))];bar.tabIndex=-1;next.tabIndex=0;next.focus()});
rove();new MutationObserver(rove).observe(document.body,{childList:true})})();`;

export function daysSection(doc: StatusDocument): string {
  if (!doc.history) return "";
  const report = historyReport(doc, { days: HISTORY_DAYS });
  const shown = WINDOWS.map(([n]) => `<span class="w${n}">${n}</span>`).join("");
  const head = `<h2 id="days-h">Uptime, last ${shown} days</h2>`;
  if (!doc.history.days.length) return `<section aria-labelledby="days-h">${head}<p>No day recorded yet: the tick rolls each day up as its runs arrive.</p></section>`;
  return `<section aria-labelledby="days-h">${head}
<p class="meta">One bar per UTC day, oldest left, today so far right; point at a bar, or Tab to a stage's bars and move between days with ← and →, for its details. ${esc(legend())}</p>
<ul class="uptime">${report.stages.map(stageRow).join("")}</ul></section>`;
}

/** How a day's colour is decided (shared/status/days.ts dayState), in words. */
function legend(): string {
  const fail = `${Math.round((1 - DAY_FAIL_BELOW) * 100)}%`;
  return `${LABEL.pass}: every run passed. ${LABEL.warn}: some runs failed (under ${fail}), were degraded or blind. ` +
    `${LABEL.fail}: ${fail} or more of the judged runs failed. ${LABEL.error}: nothing judged, or ${Math.round(DAY_BLIND_FROM * 100)}% or more of the runs blind. Grey: no data.`;
}

function stageRow(stage: StageHistory): string {
  const id = `u-${esc(stage.id)}`;
  const sums = WINDOWS.map(([n]) => {
    const days = stage.days.slice(-n);
    const incidents = new Set(days.flatMap((d) => d.incidents.map((i) => i.id))).size;
    const uptime = tallied(days).uptime;
    return `<span class="w${n}">${uptime === null ? `no data in ${n} days` : `${esc(uptimeText(uptime))} uptime over ${n} days`} · ${incidents} incident${incidents === 1 ? "" : "s"}</span>`;
  }).join("");
  const total = stage.days.length;
  const bars = stage.days.map((d, i) => dayBar(stage, d, total - 1 - i)).join("");
  const axis = WINDOWS.map(([n]) => `<span class="w${n}">${n} days ago</span>`).join("");
  return `<li class="u-stage" data-stage="${esc(stage.id)}"><div class="u-head"><h3 id="${id}">${esc(stage.title)}</h3><span class="u-sum">${sums}</span></div>
<ol class="days" aria-labelledby="${id}">${bars}</ol><p class="u-axis" aria-hidden="true"><span>${axis}</span><span>Today</span></p></li>`;
}

/** One day's bar; `age` is 0 for today. */
function dayBar(stage: StageHistory, d: StageDay, age: number): string {
  const older = age >= 60 ? " o60 o30" : age >= 30 ? " o30" : "";
  const words = d.runs === 0 ? "No data" : LABEL[d.state];
  const n = d.incidents.length;
  const incidents = n ? `${n} incident${n === 1 ? "" : "s"}: ${d.incidents.map((i) => `#${i.id} ${i.title}`).join(", ")}` : "no incident";
  const label = `${stage.title}, ${d.day}: ${words}; ${d.runs ? `${uptimeText(d.uptime)} uptime, ` : ""}${outcomesText(d)}; ${incidents}` +
    (d.incidentsMore ? `; ${d.incidentsMore} more that day in any stage` : "");
  const list = d.incidents.length
    ? `<ul class="day-incidents">${d.incidents.map((i) => `<li><a href="${esc(i.link)}">#${esc(i.id)} ${esc(i.title)}</a> <small>${esc(i.severity)}</small></li>`).join("")}</ul>`
    : "<p>No incident.</p>";
  const more = d.incidentsMore ? `<p><small>${d.incidentsMore} more incident${d.incidentsMore === 1 ? "" : "s"} that day (any stage): <a href="/api/incidents">all incidents</a></small></p>` : "";
  const state = d.runs === 0 ? `<span class="badge s-unknown">No data</span>` : badge(d.state);
  return `<li class="day f-${d.state}${older}" tabindex="0" data-day="${esc(d.day)}" data-state="${d.state}" aria-label="${esc(label)}">` +
    `<div class="tip"><p><strong>${esc(d.day)}</strong> ${state}</p><p>${d.runs ? `${esc(uptimeText(d.uptime))} uptime · ` : ""}${esc(outcomesText(d))}</p>${list}${more}</div></li>`;
}
