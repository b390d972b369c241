/**
 * Which pipeline stage a check is about. A probe has a home stage (the registry's `stage`), but some of
 * its checks watch another one: the canary follows a job through every stage, the traffic probe reads
 * the runner's request counters, the outbox probe finds jobs stuck in the queue or the worker. The
 * status document, its cards, the Prometheus stage series, the CLI and the alerts all place a check with
 * this one function, so they agree. Pure: the probe id and the check name decide.
 */

/** The canary's `stage:<name>` checks: the stage whose work a missed budget points at. */
const CANARY: Record<string, string> = {
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
};

const BY_PROBE: Record<string, Record<string, string>> = {
  canary: CANARY,
  health: { "runner-health": "runner-api", "runner-ready": "runner-api", database: "database", redis: "queue" },
  // The runner's own counters: its requests are the API's, its jobs the worker's, its pick-up latency the queue's.
  traffic: { scrape: "runner-api", requests: "runner-api", "5xx-ratio": "runner-api", "job-success": "worker", "queue-latency": "queue" },
  outbox: {
    "jobs-stuck-queued": "queue",
    "jobs-stuck-processing": "worker",
    "jobs-stuck-running": "worker",
    "jobs-stuck-finalizing": "worker",
    "executions-stuck-running": "worker",
    "jobs-finished": "worker",
    "clock-skew": "database",
  },
  // The executions and jobs APIs answering at all is the runner API's; what the receipts say is the receipts'.
  receipts: { "executions-api": "runner-api", "jobs-api": "runner-api" },
};

/** Checks named by prefix: the runner's own services (yagna and the others) are the runner API's. */
const BY_PREFIX: Record<string, [prefix: string, stage: string][]> = {
  regions: [["provider:", "runner-api"]],
};

/**
 * The stage a check is about: from the table above, `url:portal*` on the portal, anything else on the
 * probe's home stage.
 */
export function stageOfCheck(probe: string, homeStage: string, check: string | undefined): string {
  if (check === undefined) return homeStage;
  const mapped = BY_PROBE[probe]?.[check];
  if (mapped) return mapped;
  if (probe === "health" && check.startsWith("url:portal")) return "portal";
  return BY_PREFIX[probe]?.find(([prefix]) => check.startsWith(prefix))?.[1] ?? homeStage;
}

/** Every stage a probe's checks can land on (its home first), for ordering the cards. */
export function stagesOfProbe(probe: string, homeStage: string): string[] {
  return [...new Set([homeStage, ...Object.values(BY_PROBE[probe] ?? {}), ...(BY_PREFIX[probe] ?? []).map(([, stage]) => stage)])];
}
