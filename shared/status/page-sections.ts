import type { FiringAlert, ProbeStatus, StatusDocument } from "./schema.ts";
import { badge, esc, LABEL, ms, SYMBOL, utc } from "./html.ts";
import { budgetBar, latencySvg, timelineSvg } from "./page-svg.ts";
import { budgetText, duration, num, percent, runsText } from "./format.ts";
import { since } from "./page-live.ts";

/** The sections of the status page, each a pure function of the document. */

export function overallSection(doc: StatusDocument): string {
  return `<section class="overall s-${doc.overall.state}" aria-labelledby="overall-h">
<h2 id="overall-h">Pipeline ${esc(LABEL[doc.overall.state].toLowerCase())}</h2>
<p>${badge(doc.overall.state)} ${esc(doc.overall.message)}</p></section>`;
}

export function pipelineSection(doc: StatusDocument): string {
  const items = doc.stages.map((s) => `<li class="stage s-${s.state}" data-stage="${esc(s.id)}" data-state="${s.state}">
<span class="icon" aria-hidden="true">${SYMBOL[s.state]}</span><span class="name">${esc(s.title)}</span>
<span class="word">${LABEL[s.state]}</span><span class="msg">${esc(s.message)}</span></li>`);
  return `<section aria-labelledby="pipeline-h"><h2 id="pipeline-h">Pipeline, in the order a job travels it</h2>
<ol class="pipeline">${items.join("")}</ol></section>`;
}

function evidenceList(items: string[], total: number): string {
  if (!items.length) return "";
  const more = total > items.length ? `<li>… and ${total - items.length} more</li>` : "";
  return `<ul class="evidence">${items.map((e) => `<li><code>${esc(e)}</code></li>`).join("")}${more}</ul>`;
}

function incident(a: FiringAlert, now: Date, silences: StatusDocument["alerts"]["silences"]): string {
  const ack = silences.find((s) => s.ack && `silence:${s.id}` === a.heldBy);
  const root = a.heldBy?.startsWith("dependency:") ? a.heldBy.slice("dependency:".length) : undefined;
  const held = ack
    ? ` · <strong class="acked">acknowledged</strong> by ${esc(ack.createdBy)} until ${esc(utc(ack.endsAt))}${ack.comment ? `: ${esc(ack.comment)}` : ""}`
    : root ? ` · affected by ${esc(root)}: held behind it, not announced on its own` : a.heldBy ? ` · not announced (${esc(a.heldBy)})` : "";
  const bound = a.threshold === null ? "" : ` against ${esc(num(a.threshold))}`;
  return `<li class="incident sev-${esc(a.severity)}"><h3>${esc(a.title)}</h3>
<p class="meta">${esc(a.severity)} · ${esc(a.stage)} · since ${esc(utc(a.since))}${a.since ? ` (${since(a.since, now)} ago)` : ""}${held}</p>
<p>${esc(a.message)}${a.observed === null ? "" : ` (observed ${esc(num(a.observed))}${bound})`}</p>
${evidenceList(a.evidence, a.evidenceTotal)}${a.nextStep ? `<p class="next">Next step: ${esc(a.nextStep)}</p>` : ""}</li>`;
}

export function incidentsSection(doc: StatusDocument, now: Date): string {
  const { firing, silences } = doc.alerts;
  const list = firing.length ? `<ul class="incidents">${firing.map((a) => incident(a, now, silences)).join("")}</ul>` : "<p>No alert is firing.</p>";
  const quiet = silences.length
    ? `<h3>Silences and maintenance windows</h3><ul>${silences.map((s) => `<li>${s.active ? "Active" : "Upcoming"}: ${esc(JSON.stringify(s.matcher))} from ${esc(utc(s.startsAt))} to ${esc(utc(s.endsAt))}, by ${esc(s.createdBy)}${s.comment ? `: ${esc(s.comment)}` : ""}</li>`).join("")}</ul>`
    : "";
  return `<section aria-labelledby="incidents-h"><h2 id="incidents-h">Active incidents (${firing.length})</h2>${list}${quiet}</section>`;
}

function probeCard(p: ProbeStatus, now: Date): string {
  const r = p.latest;
  const when = r ? `latest run ${since(r.startedAt, now)} ago, took ${esc(ms(r.durationMs))} · ${esc(runsText(p.timeline))}` : "no result yet";
  const stale = p.stale ? ` · <strong>stale: expected every ${esc(duration(p.intervalSeconds))}</strong>` : "";
  // Checks that could not measure behind a failed one (the canary's stages not reached) are counted, not listed.
  const failed = (r?.checks ?? []).some((c) => c.status === "fail");
  const bad = (r?.checks ?? []).filter((c) => c.status !== "pass" && !(failed && c.status === "error"));
  const held = failed ? (r?.checks ?? []).filter((c) => c.status === "error") : [];
  const heldNote = held.length ? `<li class="held">${held.length} more not measured behind the failure: ${esc(held.map((c) => c.name).join(", "))}</li>` : "";
  const checks = bad.length
    ? `<ul class="checks">${bad.map((c) => p.affected?.[c.name]
      ? `<li class="affected">${badge("unknown")} <strong>${esc(c.name)}</strong>: affected by ${esc(p.affected[c.name]!)} (${esc(c.message)})</li>`
      : `<li>${badge(c.status)} <strong>${esc(c.name)}</strong>: ${esc(c.message)}${evidenceList(c.evidence, c.evidenceTotal)}</li>`).join("")}${heldNote}</ul>`
    : r ? `<p class="ok">${r.checks.length === 1 ? "Its one check passes." : `All ${r.checks.length} checks pass.`}</p>` : "";
  return `<li class="probe" id="probe-${esc(p.id)}" data-probe="${esc(p.id)}" data-state="${p.state}">
<h3>${esc(p.title)} ${badge(p.state)}</h3>
<p class="meta">${esc(p.stage)} · ${when}${stale}${r?.error ? ` · ${esc(r.error)}` : ""}</p>
<div class="charts"><figure><figcaption>Last 24 h</figcaption>${timelineSvg(p.timeline, p.title)}</figure>
<figure><figcaption>Run time</figcaption>${latencySvg(p.timeline, p.title)}</figure></div>${checks}</li>`;
}

export function probesSection(doc: StatusDocument, now: Date): string {
  return `<section aria-labelledby="probes-h"><h2 id="probes-h">Probes</h2><ul class="probes">${doc.probes.map((p) => probeCard(p, now)).join("")}</ul></section>`;
}

export function slosSection(doc: StatusDocument): string {
  const { items, evaluatedAt } = doc.slos;
  if (!items.length) return `<section aria-labelledby="slos-h"><h2 id="slos-h">Service level objectives</h2><p>Not evaluated yet.</p></section>`;
  const rows = items.map((s) => {
    const windows = s.windows.map((w) => `${esc(w.window)}: ${w.errorRatio === null ? "no events" : `${percent(w.errorRatio)} errors`}${w.burnRate === null ? "" : `, burn ${esc(num(w.burnRate))}×`}`).join("<br>");
    const burning = s.severity ? ` <strong class="burning">burning (${esc(s.severity)})</strong>` : "";
    return `<tr><th scope="row">${esc(s.title)}${burning}<br><small>${esc(s.id)} · target ${percent(s.target)} over ${s.periodDays} d</small></th>
<td data-label="Error budget">${budgetBar(s)}<small>${esc(budgetText(s))}</small></td>
<td data-label="By window"><small>${windows}</small></td><td data-label="Source"><small>${esc(s.source ?? "no source has events")} (${s.events} event${s.events === 1 ? "" : "s"})</small></td></tr>`;
  });
  return `<section aria-labelledby="slos-h"><h2 id="slos-h">Service level objectives</h2>
<table class="data slos"><caption>Evaluated ${esc(utc(evaluatedAt))}</caption><thead><tr><th scope="col">Objective</th><th scope="col">Error budget</th><th scope="col">Error ratio and burn rate by window</th><th scope="col">Source</th></tr></thead>
<tbody>${rows.join("")}</tbody></table></section>`;
}

/**
 * The recent incidents the document carries (newest first): what fired, when, how long, how many jobs
 * it touched, and a link to its story. An open one's duration keeps moving (its `data-since`). No job
 * ids: the document's summary has none, so the public page (SENTINEL_PUBLIC_STATUS=summary) shows what
 * the public incidents API shows.
 */
export function recentIncidentsSection(doc: StatusDocument, now: Date): string {
  const recent = doc.recentIncidents;
  if (!recent) return "";
  if (!recent.length) return `<section aria-labelledby="recent-h"><h2 id="recent-h">Recent incidents</h2><p>No incident recorded yet.</p></section>`;
  const rows = recent.map((i) => {
    const lasted = i.resolvedAt ? esc(duration(i.durationMs / 1000)) : `${since(i.firedAt, now)} so far`;
    return `<tr data-incident="${esc(i.id)}"><th scope="row"><a href="${esc(i.link)}">#${esc(i.id)} ${esc(i.title)}</a></th>
<td data-label="Severity">${esc(i.severity)}</td><td data-label="Stage">${esc(i.stage)}</td><td data-label="Fired">${esc(utc(i.firedAt))}</td>
<td data-label="Resolved">${i.resolvedAt ? esc(utc(i.resolvedAt)) : "<strong>ongoing</strong>"}</td><td data-label="Lasted">${lasted}</td>
<td data-label="Jobs touched">${i.jobsTouched}</td></tr>`;
  });
  return `<section aria-labelledby="recent-h"><h2 id="recent-h">Recent incidents</h2>
<table class="data recent"><caption>The ${recent.length} most recent, newest first; each links to its story (the jobs it touched, what was sent where)</caption>
<thead><tr><th scope="col">Incident</th><th scope="col">Severity</th><th scope="col">Stage</th><th scope="col">Fired</th><th scope="col">Resolved</th><th scope="col">Lasted</th><th scope="col">Jobs touched</th></tr></thead>
<tbody>${rows.join("")}</tbody></table></section>`;
}
