/**
 * Detection latency at the defaults, on a virtual clock (deterministic): from the moment an incident
 * becomes observable to the tick that sends its first message. It runs the real scheduler (which
 * probes a tick runs) and the real alert rules (N failures of the last M runs) minute by minute,
 * for every second the incident could start at within the slowest cadence, and reports the worst
 * case. That each incident fails its named check on the first run past its observable delay is what
 * the sandbox tests prove (test/fanin-incidents.test.ts); this measures what the sentinel's cadences
 * and rules add on top.
 */
import { Settings, scheduleOf } from "../../shared/config/index.ts";
import { CATALOG } from "../../shared/probes/catalog.ts";
import { dueProbes, intervalOf } from "../../shared/schedule.ts";
import { databaseEveryMinutesOf } from "../../shared/probes/health/settings.ts";
import { evaluateAlerts } from "../../shared/alerting/evaluate.ts";
import { emptyState } from "../../shared/alerting/state.ts";
import { policyFrom } from "../../shared/config/policy.ts";
import { check, type ProbeResult } from "../../shared/result.ts";

export interface IncidentRow {
  incident: string;
  probe: string;
  check: string;
  /** Seconds from the incident starting until a probe can see it (a stuck-job threshold, say). */
  observableAfterS: number;
  /** The goal, in minutes from observable to message. */
  goalMinutes: number;
  /** The check runs only on the minutes divisible by this (health's `database` check: `databaseEveryMinutes`); absent: every run. */
  checkEveryMinutes?: number;
  /** Whether its probe runs SQL on Beacon's database (directly or through health's connection): the rows `beacon.database.everyMinutes` slows. */
  database?: boolean;
}

export function incidentRows(settings: Settings = Settings.parse({})): IncidentRow[] {
  const o = settings.probes.outbox;
  const q = settings.probes.queue;
  const database = databaseEveryMinutesOf(settings.probes.health, settings.beacon);
  return [
    { incident: "health-unhealthy", probe: "health", check: "runner-health", observableAfterS: 0, goalMinutes: 4 },
    { incident: "database-down", probe: "health", check: "runner-ready", observableAfterS: 0, goalMinutes: 4 },
    { incident: "database-less", probe: "health", check: "runner-db", observableAfterS: 0, goalMinutes: 4 },
    // The runner still ready, the database unreachable from the sentinel only (credentials rotated, a network
    // rule): only health's own connection sees it. When the runner is not ready too, it runs at once.
    { incident: "database-unreachable", probe: "health", check: "database", observableAfterS: 0, goalMinutes: 4, checkEveryMinutes: database, database: true },
    { incident: "no-outbox-row", probe: "outbox", check: "jobs-stuck-created", observableAfterS: o.createdMaxSeconds, goalMinutes: 10 , database: true },
    { incident: "payload-mismatch", probe: "outbox", check: "jobs-stuck-created", observableAfterS: o.createdMaxSeconds, goalMinutes: 10 , database: true },
    { incident: "slow-worker", probe: "outbox", check: "jobs-stuck-processing", observableAfterS: o.processingMaxSeconds, goalMinutes: 10 , database: true },
    { incident: "worker-stopped", probe: "queue", check: "queue-latency", observableAfterS: q.latencyFailSeconds, goalMinutes: 10 },
    { incident: "executions-500", probe: "receipts", check: "executions-api", observableAfterS: 0, goalMinutes: 10 , database: true },
    { incident: "empty-id", probe: "receipts", check: "id-mapping", observableAfterS: 0, goalMinutes: 15 , database: true },
    { incident: "legacy-text-output", probe: "receipts", check: "receipts", observableAfterS: 0, goalMinutes: 15 , database: true },
    { incident: "lost-answer", probe: "receipts", check: "job-answers", observableAfterS: 0, goalMinutes: 15 , database: true },
  ];
}

/** Worst and best seconds from observable to the tick that decides the firing notification. */
export function detectionLatency(row: IncidentRow, settings: Settings = Settings.parse({})): { worstS: number; bestS: number } {
  const policy = policyFrom(settings);
  const infos = CATALOG.filter((p) => p.id === row.probe).map((p) => ({ id: p.id, schedule: scheduleOf(settings, p) }));
  const watched = policy.probes.filter((p) => p.id === row.probe);
  const key = `check/${row.probe}/${row.check}`;
  const base = Date.UTC(2026, 5, 1, 0, 0, 0);
  let worst = 0;
  let best = Infinity;
  // Start times every 5 s over 15 minutes cover every phase of the default cadences (1, 2, 3, 5 min); over
  // the slowest cadence when it is longer (beacon.database.everyMinutes: 30 or 60).
  const spanS = Math.max(900, ...infos.map((p) => intervalOf(p.schedule) / 1000), (row.checkEveryMinutes ?? 1) * 60);
  for (let offset = 0; offset < spanS; offset += 5) {
    const start = base + 3600_000 + offset * 1000;
    const observable = start + row.observableAfterS * 1000;
    let state = emptyState();
    const lastSlots: Record<string, string | undefined> = {};
    // Warm: the probe has been running, passing, for half an hour before the incident.
    let fired = false;
    for (let t = start - (start % 60_000) - 30 * 60_000; t < observable + 6 * 3600_000 && !fired; t += 60_000) {
      const now = new Date(t);
      const due = dueProbes(infos, lastSlots, now);
      for (const d of due) lastSlots[d.id] = d.slot;
      // A check on a cadence of its own is absent from the runs off its minutes.
      const runs = (t / 60_000) % (row.checkEveryMinutes ?? 1) === 0;
      const results: ProbeResult[] = due.map(() => ({
        version: 1, probe: row.probe, status: runs && t >= observable ? "fail" : "pass", startedAt: now.toISOString(), durationMs: 100,
        checks: runs ? [check({ name: row.check, status: t >= observable ? "fail" : "pass", observed: 1, threshold: 0, message: "" })] : [],
      }));
      const next = evaluateAlerts({ state, results, slos: [], probes: watched, silences: [], settings: settings.alerting, now });
      state = next.state;
      if (next.notifications.some((n) => n.kind === "firing" && n.alertKey === key)) {
        const s = Math.max(0, (t - observable) / 1000);
        worst = Math.max(worst, s);
        best = Math.min(best, s);
        fired = true;
      }
    }
    if (!fired) throw new Error(`${row.incident}: no message within 6 hours of being observable`);
  }
  return { worstS: worst, bestS: best };
}
