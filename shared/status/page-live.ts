import type { ProbeStatus, StatusDocument } from "./schema.ts";
import { badge, esc, utc } from "./html.ts";
import { duration, num } from "./format.ts";
import { stageTimings } from "./page-svg.ts";
import { inFlightOf } from "../probes/canary/definition.ts";

/**
 * Sections whose ages must not freeze: the canary in flight and the sentinel's own ticks. Each age is
 * rendered for the moment the page was served and carries `data-since` (an ISO time), from which the
 * page's script keeps it current every second; the server's clock is the reference (`data-now`), so a
 * visitor's wrong clock does not move it.
 */

/** An age that the page's script keeps current. */
export function since(iso: string, now: Date): string {
  return `<span class="age" data-since="${esc(iso)}">${esc(duration((now.getTime() - Date.parse(iso)) / 1000))}</span>`;
}

/** The canary: the run in flight and its live age, the last run's freshness, then the stage waterfall as that run saw it. */
export function canarySection(doc: StatusDocument, now: Date): string {
  const withStages = doc.probes.filter((p) => p.latest?.checks.some((c) => c.name.startsWith("stage:")));
  if (!withStages.length) return "";
  return `<section aria-labelledby="canary-h"><h2 id="canary-h">Canary</h2>${withStages.map((p) => canaryPart(p, now)).join("")}</section>`;
}

function canaryPart(p: ProbeStatus, now: Date): string {
  const r = p.latest!;
  const summary = r.checks.find((c) => c.name === "canary");
  const flying = summary ? inFlightOf(summary.evidence) : undefined;
  const lastRun = `Last checked ${since(r.startedAt, now)} ago (${esc(utc(r.startedAt))})${p.stale ? ` · <strong>stale: the ${esc(p.title.toLowerCase())} runs every ${esc(duration(p.intervalSeconds))} and has not reported since</strong>` : ""}.`;
  const now_ = flying
    ? `<p class="inflight"><span class="badge s-unknown">In flight</span> <code>${esc(flying.id)}</code>, submitted ${esc(utc(flying.submittedAt))}: in flight for <strong>${since(flying.submittedAt, now)}</strong>.</p>`
    : `<p>${summary ? esc(summary.message) : "No canary in flight."}</p>`;
  const asOf = flying && summary && typeof summary.observed === "number"
    ? ` <small>as the last check saw it, ${esc(num(summary.observed))} s after submission</small>` : ` <small>as the last run saw it</small>`;
  return `<div class="canary" data-probe="${esc(p.id)}" data-inflight="${flying ? "yes" : "no"}">${now_}<p class="meta">${lastRun}</p>
<h3>Stage timings${asOf}</h3>${stageTimings(r.checks)}</div>`;
}

/** How long past `nextTickBy` a page may be before it says the sentinel stalled: a tick may take its 25 s budget, and start late. */
export const STALL_GRACE_MS = 60_000;

/** The sentinel watching itself: its ticks, what it lost, what it could not deliver, and whether it stalled. */
export function monitoringSection(doc: StatusDocument, now: Date): string {
  const m = doc.monitoring;
  const head = `<section aria-labelledby="monitoring-h"><h2 id="monitoring-h">The sentinel itself</h2>`;
  if (!m) return `${head}<p>No record yet of the sentinel's own ticks: the next tick writes one.</p></section>`;
  const stallAt = m.nextTickBy ? new Date(Date.parse(m.nextTickBy) + STALL_GRACE_MS).toISOString() : null;
  const stalled = stallAt !== null && now.getTime() > Date.parse(stallAt);
  const warning = stallAt
    ? `<p class="stalled" role="alert" data-stalled-after="${esc(stallAt)}"${stalled ? "" : " hidden"}>${badge("error")} <strong>Stalled:</strong> no evaluation since ${esc(utc(m.lastTickAt))} (the next was due by ${esc(utc(m.nextTickBy))}). The tick is not running or cannot store its results; everything on this page is as of then.</p>`
    : "";
  const gaps = m.gaps.slice(-3).reverse().map((g) => `<li>${esc(utc(g.from))} to ${esc(utc(g.to))}: ${g.missedRuns} missed run${g.missedRuns === 1 ? "" : "s"}</li>`).join("");
  const trouble = m.lostResults + m.failedSends + m.unknownDeliveries + m.collapsedNotifications + m.pendingNotifications;
  const lost = m.memoryLost ? `<p class="memory-lost" role="note">${badge("warn")} <strong>Memory lost at ${esc(utc(m.memoryLost.at))}</strong> (the stored state was ${esc(m.memoryLost.reason)}), rebuilt from the ${m.memoryLost.from === "ledger" ? "ledger" : "ledger's durable copy"}: ${m.memoryLost.alerts.length} open alert${m.memoryLost.alerts.length === 1 ? "" : "s"} kept${m.memoryLost.alerts.length ? ` (${m.memoryLost.alerts.map(esc).join(", ")})` : ""}; each resolves once when its cause clears.</p>` : "";
  const stale = m.staleState ? `<p class="stale-state" role="note">${badge("warn")} <strong>Stored state behind at ${esc(utc(m.staleState.at))}</strong>: it was written under sequence ${m.staleState.storedSeq}, the store's counter expected ${m.staleState.expectedSeq}; ${m.staleState.expectedSeq - m.staleState.storedSeq} write(s) acknowledged and not kept (or not made). Treated as lost memory: open alerts rebuilt from the ledger.</p>` : "";
  return `${head}${warning}${lost}${stale}
<ul class="monitoring" data-state="${stalled ? "error" : trouble ? "warn" : "pass"}">
<li>Last evaluation: ${m.lastTickAt ? `${since(m.lastTickAt, now)} ago (${esc(utc(m.lastTickAt))}), ${m.ticks} tick${m.ticks === 1 ? "" : "s"} recorded` : "none yet"}${m.nextTickBy ? `; next expected by ${esc(utc(m.nextTickBy))}` : ""}</li>
<li>Probe runs missed (no tick ran, or none could store its results; a deliberate stop counts too): ${m.lostResults}${gaps ? `; recent gaps:<ul>${gaps}</ul>` : "; no gaps"}</li>
<li>Notifications: ${m.pendingNotifications} pending, ${m.failedSends} failed send${m.failedSends === 1 ? "" : "s"} (retried), ${m.unknownDeliveries} of unknown delivery, ${m.collapsedNotifications} folded into summaries${m.lastSendError ? `; last send error: ${esc(m.lastSendError)}` : ""}</li>
</ul></section>`;
}
