import { checkEnvelope } from "../../beacon/envelope.ts";
import { check, type Check, type CheckStatus } from "../../result.ts";
import type { OutboxSettings } from "./settings.ts";
import type { OutboxRow, StuckRow, StuckState } from "./queries.ts";

/** Check names of statement 1 (the outbox) and statement 2 (stuck states), in result order. */
export const OUTBOX_CHECKS = ["outbox-backlog", "outbox-lag", "outbox-envelope"] as const;
export const STUCK_CHECKS = [
  "jobs-stuck-created", "jobs-stuck-queued", "jobs-stuck-processing", "jobs-stuck-finalizing", "jobs-stuck-running", "executions-stuck-running",
  "clock-skew",
] as const;

const s = (seconds: number) => `${Math.round(seconds)} s`;

/** Above `fail` fails, above `warn` warns. */
function grade(value: number, warn: number, fail: number): CheckStatus {
  return value > fail ? "fail" : value > warn ? "warn" : "pass";
}

/** outbox-backlog (unpublished count) and outbox-lag (age of the oldest unpublished row). */
export function judgeBacklog(rows: OutboxRow[], settings: OutboxSettings): Check[] {
  const count = rows[0]?.unpublished ?? 0;
  const capped = count >= settings.countCap ? "at least " : "";
  const unpublished = rows.filter((r) => r.kind === "unpublished" && r.id !== null);
  const oldest = Math.max(0, ...unpublished.map((r) => r.age_s ?? 0));
  const countStatus = grade(count, settings.unpublishedWarnCount, settings.unpublishedFailCount);
  const lagStatus = grade(oldest, settings.oldestUnpublishedWarnSeconds, settings.oldestUnpublishedFailSeconds);
  const rowLine = (r: OutboxRow) => `outbox row ${r.id}: unpublished for ${s(r.age_s ?? 0)}${poisonNote(r)}`;
  const lagBound = Math.min(settings.oldestUnpublishedWarnSeconds, settings.oldestUnpublishedFailSeconds);
  const byAge = [...unpublished].sort((a, b) => (b.age_s ?? 0) - (a.age_s ?? 0));
  return [
    check({
      name: "outbox-backlog", status: countStatus, observed: count,
      threshold: `<= ${settings.unpublishedWarnCount} (warn), <= ${settings.unpublishedFailCount} (fail)`,
      message: `${capped}${count} unpublished outbox rows`,
      evidence: countStatus === "pass" ? [] : byAge.map(rowLine),
    }),
    check({
      name: "outbox-lag", status: lagStatus, observed: Math.round(oldest),
      threshold: `<= ${settings.oldestUnpublishedWarnSeconds} s (warn), <= ${settings.oldestUnpublishedFailSeconds} s (fail)`,
      message: unpublished.length === 0 ? "no unpublished outbox rows" : `oldest unpublished outbox row is ${s(oldest)} old`,
      evidence: lagStatus === "pass" ? [] : byAge.filter((r) => (r.age_s ?? 0) > lagBound).map(rowLine),
    }),
  ];
}

/** outbox-envelope: every sampled payload is Beacon's flat envelope naming an existing job. */
export function judgeEnvelopes(rows: OutboxRow[]): Check {
  const sampled = rows.filter((r) => r.id !== null);
  const bad = sampled.flatMap((r) => {
    const problem = envelopeProblem(r);
    if (!problem) return [];
    const where = r.kind === "unpublished" ? "unpublished, the publisher retries it forever" : "published";
    return [`outbox row ${r.id}: ${problem} (${where})`];
  });
  const poison = rows.filter((r) => r.kind === "unpublished" && envelopeProblem(r)).length;
  return check({
    name: "outbox-envelope", status: bad.length ? "fail" : "pass", observed: bad.length,
    threshold: `0 invalid of ${sampled.length} sampled`,
    message: bad.length
      ? `${bad.length} of ${sampled.length} sampled outbox payloads break the envelope contract (${poison} unpublished poison rows)`
      : `${sampled.length} sampled outbox payloads are valid envelopes`,
    evidence: bad,
  });
}

/** Why a row's payload is not a publishable, consumable envelope; undefined when it is. */
function envelopeProblem(row: OutboxRow): string | undefined {
  if (row.payload_type !== "object") return `payload is a JSON ${row.payload_type ?? "null"}, not an object`;
  const parsed = checkEnvelope(row.envelope ?? {});
  if (parsed.kind === "invalid") return parsed.reason;
  if (row.job_exists === false) return `id ${JSON.stringify(parsed.jobId)} names no job`;
  return undefined;
}

function poisonNote(row: OutboxRow): string {
  const problem = envelopeProblem(row);
  return problem ? ` (poison: ${problem})` : "";
}

/**
 * clock-skew: rows dated ahead of Beacon's database clock (their age is negative, so every stuck check
 * and the lag would silently skip them), and a database clock far from the sentinel's.
 */
export function judgeClock(rows: StuckRow[], settings: OutboxSettings, sentinelNow: Date): Check {
  const tolerance = settings.clockSkewToleranceSeconds;
  const future = rows.filter((r) => r.state === "future");
  const dbEpoch = rows.find((r) => r.state === "db-clock")?.age_s;
  const skew = dbEpoch === undefined ? 0 : dbEpoch - sentinelNow.getTime() / 1000;
  const evidence = future.map((r) => `${r.id}: ${r.detail} is ${s(-r.age_s)} ahead of the database clock`);
  if (Math.abs(skew) > tolerance) evidence.unshift(`database clock: ${s(Math.abs(skew))} ${skew > 0 ? "ahead of" : "behind"} the sentinel's`);
  const atLeast = future.length >= settings.stuckSampleLimit ? "at least " : "";
  return check({
    name: "clock-skew", status: evidence.length ? "fail" : "pass", observed: evidence.length ? Math.round(Math.max(Math.abs(skew), ...future.map((r) => -r.age_s))) : Math.round(Math.abs(skew)),
    threshold: `<= ${tolerance} s`,
    message: evidence.length
      ? `${atLeast}${future.length} rows dated in the future, database clock ${Math.round(skew)} s from the sentinel's (Beacon's times cannot be trusted: ages and stuck checks skip these rows)`
      : `no row dated ahead of the database clock; database and sentinel clocks ${Math.round(Math.abs(skew))} s apart`,
    evidence,
  });
}

const STUCK: Record<StuckState, { name: (typeof STUCK_CHECKS)[number]; limit: keyof OutboxSettings; what: string }> = {
  created: { name: "jobs-stuck-created", limit: "createdMaxSeconds", what: "jobs in created" },
  queued: { name: "jobs-stuck-queued", limit: "queuedMaxSeconds", what: "jobs in queued" },
  processing: { name: "jobs-stuck-processing", limit: "processingMaxSeconds", what: "jobs in processing" },
  finalizing: { name: "jobs-stuck-finalizing", limit: "finalizingMaxSeconds", what: "jobs in finalizing" },
  running: { name: "jobs-stuck-running", limit: "runningMaxSeconds", what: "jobs in running" },
  "execution-running": { name: "executions-stuck-running", limit: "executionRunningMaxSeconds", what: "executions running" },
};

/** One check per stuck state; `created` jobs are classified by cause, because the fix differs. */
export function judgeStuck(rows: StuckRow[], settings: OutboxSettings): Check[] {
  return (Object.keys(STUCK) as StuckState[]).map((state) => {
    const { name, limit, what } = STUCK[state];
    const found = rows.filter((r) => r.state === state);
    const atLeast = found.length >= settings.stuckSampleLimit ? "at least " : "";
    const causes = state === "created" ? causeSummary(found) : "";
    return check({
      name, status: found.length ? "fail" : "pass", observed: found.length,
      threshold: `0 ${what} > ${settings[limit]} s`,
      message: `${atLeast}${found.length} ${what} > ${settings[limit]} s${causes}`,
      evidence: found.map(stuckLine),
    });
  });
}

function stuckLine(r: StuckRow): string {
  if (r.state === "execution-running") return `execution ${r.id} (job_id ${r.job_id ?? "null"}): ${s(r.age_s)} running`;
  if (r.state === "queued") {
    return `job ${r.id}: ${s(r.age_s)} in queued, past the portal path's 15-minute run (a cross-region job is queued while it runs, with no outbox row by design): ` +
      "its run ended without writing a status (a plan error such as too few regions with a provider, or a runner restart: see regions restart-lost); nothing recovers it";
  }
  if (r.state === "running") return `job ${r.id}: ${s(r.age_s)} in running (the portal path leaves a partial result, enough regions but under min_success_rate, running for good)`;
  if (r.state === "finalizing") return `job ${r.id}: ${s(r.age_s)} in finalizing (strict completion barrier: persisted executions below expected; nothing moves it on)`;
  if (r.state !== "created") return `job ${r.id}: ${s(r.age_s)} in ${r.state}`;
  return `job ${r.id}: ${s(r.age_s)} in created, ${createdCause(r).detail}`;
}

/** The three causes of a stuck `created` job, as the fix differs for each (shared with shared/remediation). */
export function createdCause(r: StuckRow): { cause: string; detail: string } {
  if (r.recovery_reset) {
    const since = r.since_reset_s === null || r.since_reset_s === undefined ? "" : ` ${s(r.since_reset_s)} ago`;
    const after = r.reset_after_s === null || r.reset_after_s === undefined ? "" : `, ${s(r.reset_after_s)} after submission`;
    const runs = r.executions ? `; its ${r.executions} executions from the first run stay, and a re-run adds to them (Beacon's dedup does not stop duplicates)` : "";
    return {
      cause: "startup recovery reset",
      detail: `put back in created by the runner's startup recovery${since}${after} (it was processing over 10 min at a restart; recovery writes no outbox row, so nothing picks it up: republish it once the first run's 15-minute job lock has expired${runs})`,
    };
  }
  if (!r.outbox_rows) {
    const among = r.scan_capped ? " among the newest scanned rows" : "";
    return { cause: "no outbox row", detail: `no outbox row${among} (outbox entries not generated: republish the job)` };
  }
  if (r.outbox_unpublished) {
    return { cause: "outbox row unpublished", detail: `outbox row ${r.outbox_id} unpublished (publisher down or stuck on a poison row)` };
  }
  const ago = r.published_age_s === null ? "" : ` ${s(r.published_age_s)} ago`;
  return {
    cause: "published but never picked up",
    detail: `outbox row ${r.outbox_id} published${ago}, never picked up (message lost or payload mismatch)`,
  };
}

function causeSummary(rows: StuckRow[]): string {
  if (!rows.length) return "";
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(createdCause(r).cause, (counts.get(createdCause(r).cause) ?? 0) + 1);
  return `: ${[...counts].map(([cause, n]) => `${n} ${cause}`).join("; ")}`;
}
