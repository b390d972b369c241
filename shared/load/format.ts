import { pct, type LoadReport } from "./report.ts";

/** Where the run stands, for the progress bar. */
export interface Progress {
  requested: number;
  submitted: number;
  accepted: number;
  started: number;
  finished: number;
  queueDepth: number | null;
  elapsedSeconds: number;
}

/** One line: `[######------------------] 24/100 submitted · 20 started · 12 done · queue 8 · 3 s`. Pure. */
export function progressLine(p: Progress, width = 24): string {
  const share = p.requested ? (p.submitted + p.finished) / (2 * p.requested) : 1;
  const filled = Math.round(Math.max(0, Math.min(1, share)) * width);
  const queue = p.queueDepth === null ? "" : ` · queue ${p.queueDepth}`;
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${p.submitted}/${p.requested} submitted · ${p.started} started · ${p.finished} done${queue} · ${Math.round(p.elapsedSeconds)} s`;
}

const s = (x: number) => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} s`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The human report of `sentinel load`. Pure. */
export function formatReport(r: LoadReport): string {
  const unfinished = Object.entries(r.unfinished).map(([k, n]) => `${n} ${k}`).join(", ") || "none";
  const rejections = Object.entries(r.submitted.rejections).map(([k, n]) => `${k} ×${n}`).join(", ");
  const rows: [string, string][] = [
    ["target", `${r.target} (run ${r.runId}, ${r.requested.jobs} jobs at concurrency ${r.requested.concurrency})`],
    ["duration", `${s(r.durationSeconds)} (stopped: ${r.stoppedBy})`],
    ["submissions", `${r.submitted.accepted} accepted, ${r.submitted.rejected} rejected${rejections ? ` (${rejections})` : ""}; ${r.submitted.acceptedPerSecond.toFixed(1)} accepted/s`],
    ["time to start", r.startSeconds ? `p50 ${s(r.startSeconds.p50)}, p95 ${s(r.startSeconds.p95)}, p99 ${s(r.startSeconds.p99)}, max ${s(r.startSeconds.max)} (${r.startSeconds.count} started)` : "no job started"],
    ["completed", `${r.completed} completed, ${r.failed} failed, unfinished: ${unfinished}`],
    ["lost", String(r.lost)],
    ["duplicated", `${r.duplicated.jobs} jobs with duplicate executions; extra pickups: ${r.duplicated.extraPickups ?? "not measured (no /metrics, or other jobs were submitted meanwhile)"}`],
    ["queue peak", r.queue.peakDepth === null ? "not measured (set BEACON_REDIS_REST_URL, or BEACON_ADMIN_TOKEN for /admin/queue-stats)" : `${r.queue.peakDepth} (${r.queue.samples} samples via ${r.queue.source})`],
    ["backlog peak", `${r.peakWaiting} of this run's jobs waiting to start at once`],
    ["order", r.order.pairs ? `${r.order.verdict}: ${r.order.inversions} of ${r.order.pairs} pairs started out of creation order` : "n/a"],
    ["memory", r.memory ? `heap ${mib(r.memory.heapAllocBytes.first)} -> peak ${mib(r.memory.heapAllocBytes.peak)} -> ${mib(r.memory.heapAllocBytes.last)}` : "not exposed (/metrics has no memory_heap_alloc_bytes)"],
    ["processing SLO", r.slo.withinThreshold === null ? "no job started" : `${pct(r.slo.withinThreshold)} started within ${r.slo.thresholdSeconds} s (target ${pct(r.slo.target)})${r.slo.breached ? ": BREACHED" : ""}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  const verdict = r.findings.length ? `FAIL\n${r.findings.map((f) => `  - ${f}`).join("\n")}` : "OK: every accepted job completed once, none lost";
  return `load test report\n${lines.join("\n")}\n${verdict}\n`;
}
