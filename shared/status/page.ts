import { createHash } from "node:crypto";
import type { StatusDocument } from "./schema.ts";
import { esc, LABEL, MEANING, SYMBOL, utc } from "./html.ts";
import { regionsSection } from "./page-regions.ts";
import { incidentsSection, overallSection, recentIncidentsSection, pipelineSection, probesSection, slosSection } from "./page-sections.ts";
import { canarySection, monitoringSection } from "./page-live.ts";
import { DAYS_CSS, DAYS_SCRIPT, daysSection } from "./page-days.ts";
import { OPERATOR_CSS, OPERATOR_SCRIPT, operatorSection } from "./page-operator.ts";

/**
 * The status page: one self-contained HTML document (inline CSS, inline SVG, one small inline script,
 * no external asset, so it works on a locked-down network), rendered on the server from the status
 * document so it shows everything without JavaScript. The script refreshes the page in place: it
 * fetches the page again and swaps <main>, pausing while the tab is hidden.
 */

/** Colours from GitHub's Primer palette: each has at least 4.5:1 contrast against white text and background. */
const CSS = `
:root{--pass:#1a7f37;--warn:#9a6700;--fail:#cf222e;--error:#8250df;--unknown:#57606a;--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--bg:#fff}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:1100px;margin:0 auto;padding:12px 20px}h1{font-size:1.5rem;margin:8px 0}h2{font-size:1.2rem;margin:24px 0 8px}h3{font-size:1rem;margin:0 0 4px}
.meta,small,figcaption,#refresh{color:var(--muted)}code{font-size:.85em;word-break:break-all}a{color:#0969da}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:.85em;white-space:nowrap}
.badge.s-pass{background:var(--pass)}.badge.s-warn{background:var(--warn)}.badge.s-fail{background:var(--fail)}.badge.s-error{background:var(--error)}.badge.s-unknown{background:var(--unknown)}
.overall{border-left:6px solid var(--unknown);padding:4px 12px}.overall.s-pass{border-color:var(--pass)}.overall.s-warn{border-color:var(--warn)}.overall.s-fail{border-color:var(--fail)}.overall.s-error{border-color:var(--error)}
.pipeline{list-style:none;display:flex;flex-wrap:wrap;gap:8px;padding:0;margin:0;counter-reset:st}
.stage{flex:1 1 150px;border:2px solid var(--unknown);border-radius:8px;padding:8px;display:flex;flex-direction:column;gap:2px;position:relative}
.stage .icon{font-weight:700;font-size:1.2rem;width:1.6rem;height:1.6rem;border-radius:50%;color:#fff;display:inline-flex;align-items:center;justify-content:center;background:var(--unknown)}
.stage .name{font-weight:600}.stage .word{font-weight:600}.stage .msg{font-size:.85em;color:var(--muted)}
.stage.s-pass{border-color:var(--pass)}.stage.s-pass .icon{background:var(--pass)}.stage.s-pass .word{color:var(--pass)}
.stage.s-warn{border-color:var(--warn)}.stage.s-warn .icon{background:var(--warn)}.stage.s-warn .word{color:var(--warn)}
.stage.s-fail{border-color:var(--fail);border-width:3px}.stage.s-fail .icon{background:var(--fail)}.stage.s-fail .word{color:var(--fail)}
.stage.s-error{border-color:var(--error);border-style:dashed}.stage.s-error .icon{background:var(--error)}.stage.s-error .word{color:var(--error)}
.stage.s-unknown{border-style:dotted}.stage.s-unknown .word{color:var(--unknown)}
.incidents,.probes,.checks,.stages{list-style:none;padding:0}.incident{border-left:4px solid var(--fail);padding:4px 12px;margin:8px 0}.incident.sev-ticket,.incident.sev-warning{border-color:var(--warn)}
.evidence{margin:4px 0;padding-left:20px}.next{font-style:italic}
.probe{border-top:1px solid var(--line);padding:12px 0}.charts{display:flex;flex-wrap:wrap;gap:16px}figure{margin:4px 0;flex:1 1 300px}
.timeline,.latency{width:100%;height:28px;display:block;border:1px solid var(--line)}.latency{height:40px}
.f-pass{fill:var(--pass);background:var(--pass)}.f-warn{fill:var(--warn);background:var(--warn)}.f-fail{fill:var(--fail);background:var(--fail)}.f-error{fill:var(--error);background:var(--error)}.f-unknown{fill:#eaeef2;background:#eaeef2}
.spark{fill:none;stroke:#0969da;stroke-width:.6;vector-effect:non-scaling-stroke}circle.spark{fill:#0969da}.peak{fill:#ddf4ff}
.data{border-collapse:collapse;width:100%}.data th,.data td{border-bottom:1px solid var(--line);padding:6px;text-align:left;vertical-align:top}.data caption{text-align:left;color:var(--muted)}
.bar{width:100%;min-width:120px;height:12px;background:#eaeef2;border:1px solid var(--line);border-radius:6px;overflow:hidden}.bar .fill{display:block;height:100%}.burning{color:var(--fail)}
.s-row{display:grid;grid-template-columns:10rem 1fr 12rem;gap:8px;align-items:center;padding:2px 0}.s-track{height:12px;background:#eaeef2;display:block}.s-seg{display:block;height:100%}.s-msg{grid-column:2/4;font-size:.85em;color:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:12px;padding:0;list-style:none;font-size:.85em}
body{overflow-wrap:anywhere}.stalled{border-left:6px solid var(--error);padding:4px 12px}.monitoring{padding-left:20px}
@media (max-width:640px){header,main,footer{padding:8px 12px}.s-row{grid-template-columns:1fr}.s-msg{grid-column:1}figure{flex-basis:100%}
.data,.data caption,.data tbody,.data tr,.data th,.data td{display:block;width:100%}.data thead{display:none}.data tr{border-bottom:1px solid var(--line);padding:6px 0}.data th,.data td{border:0;padding:2px 0}
.data td[data-label]::before{content:attr(data-label) ": ";font-weight:600;font-size:.85em}.stage{flex-basis:130px}}
${DAYS_CSS}
${OPERATOR_CSS}
`;

/**
 * Refreshes <main> in place; on failure keeps the page and says why. Every second it moves the ages
 * (`data-since`) on, measured on the server's clock (`data-now` at the last load), and shows the
 * stalled-sentinel warning once its time (`data-stalled-after`) passes. The CSP allows exactly this script.
 */
const SCRIPT = `(()=>{const every=Number(document.body.dataset.refresh)*1000,line=document.getElementById("refresh");let skew=0;
const main=()=>document.getElementById("content"),sync=()=>{skew=Date.parse(main().dataset.now)-Date.now()||0};
const words=s=>s<120?Math.round(s)+" s":s<7200?Math.round(s/60)+" min":s<172800?Number((s/3600).toFixed(1))+" h":Math.round(s/86400)+" d";
function tick(){const now=Date.now()+skew;for(const e of document.querySelectorAll("[data-since]"))e.textContent=words(Math.max(0,(now-Date.parse(e.dataset.since))/1000));
for(const e of document.querySelectorAll("[data-stalled-after]"))e.hidden=now<=Date.parse(e.dataset.stalledAfter)}
async function refresh(){if(document.visibilityState==="hidden")return;try{const r=await fetch(location.href,{headers:{accept:"text/html"},cache:"no-cache"});
if(!r.ok)throw new Error("HTTP "+r.status);const next=new DOMParser().parseFromString(await r.text(),"text/html"),fresh=next.getElementById("content");
if(!fresh)throw new Error("unexpected answer");main().replaceWith(fresh);document.title=next.title;sync();tick();
line.textContent="Updated "+new Date().toLocaleTimeString()+"; refreshes every "+every/1000+" s"}catch(e){line.textContent="Could not refresh ("+e.message+"); showing the data from "+main().dataset.generated}}
sync();tick();setInterval(tick,1000);setInterval(refresh,every);document.addEventListener("visibilitychange",()=>{if(document.visibilityState==="visible")refresh()})})();
${OPERATOR_SCRIPT}
${DAYS_SCRIPT}`;

export const PAGE_CSP = [
  "default-src 'none'", "style-src 'unsafe-inline'", `script-src 'sha256-${createHash("sha256").update(SCRIPT).digest("base64")}'`,
  "connect-src 'self'", "img-src data:", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join("; ");

/**
 * Seconds between the page's refreshes while it is visible (a tab coming back into view refreshes at
 * once). 300, as Uptime Kuma's status pages: every refresh is a function invocation and a store read of
 * the state and the past (`beacon-sentinel cost`), and a page open all month at 120 s cost 0.5 GB of
 * store transfer, half the month's budget, to show numbers that change once a minute.
 */
export const PAGE_REFRESH_SECONDS = 300;

export interface PageOptions {
  /** Seconds between refreshes (default PAGE_REFRESH_SECONDS). */
  refreshSeconds?: number;
  /** When the page is served (default: when the document was generated): ages and the stalled warning are measured from it. */
  now?: Date;
}

export function renderStatusPage(doc: StatusDocument, options: PageOptions = {}): string {
  const refresh = options.refreshSeconds ?? PAGE_REFRESH_SECONDS;
  const now = options.now ?? new Date(doc.generatedAt);
  const legend = (["pass", "warn", "fail", "error", "unknown"] as const)
    .map((s) => `<li><span class="badge s-${s}"><span aria-hidden="true">${SYMBOL[s]}</span> ${LABEL[s]}</span> ${esc(MEANING[s])}</li>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Beacon pipeline: ${esc(LABEL[doc.overall.state].toLowerCase())}</title><meta name="color-scheme" content="light">
<noscript><meta http-equiv="refresh" content="${refresh}"></noscript><style>${CSS}</style></head>
<body data-refresh="${refresh}"><header><h1>Beacon pipeline status</h1>
<p id="refresh" role="status" aria-live="polite">Generated ${esc(utc(doc.generatedAt))}; refreshes every ${refresh} s</p></header>
<main id="content" data-generated="${esc(utc(doc.generatedAt))}" data-now="${esc(now.toISOString())}">
${overallSection(doc)}
${pipelineSection(doc)}
${incidentsSection(doc, now)}
${daysSection(doc)}
${recentIncidentsSection(doc, now)}
${canarySection(doc, now)}
${probesSection(doc, now)}
${slosSection(doc)}
${regionsSection(doc)}
${monitoringSection(doc, now)}
<h2>Legend</h2><ul class="legend">${legend}</ul>
</main>
${operatorSection(doc)}
<footer><small>Machine-readable: <a href="/api/status">/api/status</a> · <a href="/api/metrics">/api/metrics</a> (Prometheus) · <a href="/api/status/badge">/api/status/badge</a> (shields.io) · <a href="/api/history">/api/history</a> (90 days)</small></footer>
<script>${SCRIPT}</script></body></html>`;
}
