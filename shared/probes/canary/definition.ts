import { ROOTS, type ProbeDefinition } from "../types.ts";
import { CanarySettings } from "./settings.ts";

/**
 * The canary as the catalog lists it (index.ts adds `run`), and what its checks say that others read:
 * the status page shows the canary in flight from the `canary` check's evidence; the outbox probe
 * and the load test tell the sentinel's own jobs apart by their id prefix. Kept apart from the
 * probe's code so that the status functions, which read it, do not ship the probe.
 */
export const CANARY = {
  id: "canary", title: "Canary job", stage: "receipts", schedule: "* * * * *", settings: CanarySettings, stateful: true,
  // Each `stage:<name>` check names the stage whose work a missed budget points at.
  checkStages: {
    byName: {
      "stage:accepted": "runner-api",
      "stage:created": "runner-api", // the job row is written by the submit handler
      "stage:outbox": "outbox",
      "stage:published": "outbox", // the outbox publisher moves the row onto the queue
      "stage:queued": "queue",
      "stage:processing": "worker",
      "stage:started": "worker",
      "stage:completed": "worker",
      "stage:receipt": "receipts",
      // A job still in `created` is the outbox's to move (its restatement of a stage is held behind it: see alerting).
      "regression:left-created": "outbox",
      "regression:id-populated": "receipts", // as the receipts probe's id-mapping
      "regression:questions-answered": "receipts",
    },
  },
  nextStep: "Follow the canary's stage timings on the status page: the failed stage names the likely cause",
  dependsOn: ROOTS.runner,
  // A stage the canary did not reach behind a failing outbox or queue is theirs: they page, it is held.
  checkDependsOn: {
    byName: Object.fromEntries([
      ...["stage:outbox", "stage:published"].map((s) => [s, [...ROOTS.outbox, "check/outbox/jobs-stuck-created"]]),
      ...["stage:queued", "stage:processing", "stage:started", "stage:completed", "regression:left-created"].map((s) => [s, [...ROOTS.outbox, "check/outbox/jobs-stuck-created", ...ROOTS.redis, ...ROOTS.queue]]),
    ]),
  },
  needsStore: "the canary follows its one job across runs through claims in the sentinel's store, which a dry run does not write",
  // Following a canary in flight; an idle run touches nothing. A submission adds one HTTP request.
  // The queue is read (one request of 4 commands: observe.ts readQueue) only while the job has not left
  // `created`: never on a healthy pipeline, whose publisher moves it within seconds (the bench's month
  // counts 0; the model said 2 a run, 17,280 a month, that no run sends).
  // Under `beacon.database.everyMinutes` it submits only on those minutes (and follows on the next few).
  beaconPerRun: { http: 1, sql: 1, redis: 0, alignsItsSql: true },
} as const satisfies ProbeDefinition<CanarySettings>;

/** Jobspec id prefixes of the sentinel's own jobs: business SLOs and dashboards exclude them by prefix. */
export const CANARY_ID_PREFIX = "sentinel-canary-";
export const LOAD_ID_PREFIX = "sentinel-load-";

/**
 * The `canary` check names the canary in flight in its evidence, "<id> submitted <ISO time>", so the
 * status page can show its age live, between runs, instead of the age it had at the last run.
 */
export function inFlightEvidence(id: string, submittedAt: string): string {
  return `${id} submitted ${submittedAt}`;
}

export function inFlightOf(evidence: readonly string[]): { id: string; submittedAt: string } | undefined {
  for (const e of evidence) {
    const m = /^(\S+) submitted (\d{4}-\d\d-\d\dT[\d:.]+Z)$/.exec(e);
    if (m && !Number.isNaN(Date.parse(m[2]!))) return { id: m[1]!, submittedAt: m[2]! };
  }
  return undefined;
}
