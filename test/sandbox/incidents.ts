/**
 * Switchable failure modes, each reproducing one documented Beacon incident (contract sheet §2, §4,
 * §5, §9). Flip them with `sandbox.incidents.set(name, on)` or, on a running sandbox,
 * `POST /__sandbox/incidents/:name {"on": true}`.
 */

export const INCIDENTS = {
  "no-outbox-row": "POST /api/v1/jobs writes the job row (created) but no outbox row: jobs stay in created (fri-plan 2025-09-12).",
  "payload-mismatch":
    "The publisher sends a JobMessage-shaped message whose payload lacks the jobspec id: the worker cannot find the job, the message goes to <queue>:dead, the job stays in created.",
  "legacy-text-output": "The worker stores receipts whose output.data holds a single text_output instead of responses[].",
  "executions-500": 'The executions API answers 500 {"error":"Failed to fetch executions"} (receipts and details fail too).',
  "empty-id": 'Job list and job details carry "id": "" while jobspec_id is set.',
  "worker-stopped": "The worker pops nothing: the Redis backlog grows and jobs stay in created.",
  "publisher-stopped": "The outbox publisher publishes nothing: outbox rows pile up unpublished and jobs stay in created.",
  "slow-worker": "The worker marks a job processing, then waits slowWorkerDelayMs before any execution starts.",
  "health-unhealthy": '/health answers 503 {"status":"unhealthy",...} (the yagna circuit breaker is open).',
  "lost-answer":
    "The insert of each job's last execution fails and, as in Beacon, the error is only logged: the job completes with one answer missing.",
  "duplicate-executions":
    "Every execution row is written twice (Beacon's dedup query compares the integer job_id with the string spec id and ignores the error).",
  "undecodable-receipt":
    "Receipts carry execution_details.duration as a string: Go cannot decode them, so ?include=latest answers no execution; ?include=executions serves them as stored (maps).",
  "database-down":
    "The database is lost while the runner runs: jobs endpoints answer 503 persistence unavailable, /health/ready 503 (its ping fails), publisher and worker stop.",
  "database-less":
    "Database-less mode, as the real runner runs when its startup ping fails: no DB handle, so /health/ready pings nothing and answers 200 ready; jobs endpoints 503 persistence unavailable, the cross-region route is not registered (404), publisher and worker never run.",
  ...regionalIncidents(),
} as const;

/** The hybrid router's region names (`internal/worker/helpers.go`): what executions.region holds. */
export const SANDBOX_REGIONS = ["us-east", "eu-west", "asia-pacific"] as const;
export type SandboxRegion = (typeof SANDBOX_REGIONS)[number];

/**
 * One switch per region and fault of what lies outside Beacon (the hybrid router and Modal), each in
 * the shape `executor_hybrid.go` records it: `region-down:<r>` (the router answers 502,
 * ROUTER_HTTP_502), `router-timeout:<r>` (a context deadline, ROUTER_TIMEOUT), `router-hang:<r>` (the
 * router never answers: ROUTER_NETWORK after the runner's HTTP client timeout on each of its four
 * inference paths), `provider-missing:<r>` (no provider for the region: ROUTER_ERROR on the queue path;
 * on the portal path the region is not planned at all), `modal-no-answer:<r>` (Modal answers
 * "Response extraction failed": a completed row without an answer). The other regions answer, so jobs
 * still complete by min_success_rate.
 */
function regionalIncidents() {
  type Key = `${"region-down" | "router-timeout" | "router-hang" | "provider-missing" | "modal-no-answer"}:${SandboxRegion}`;
  const out: Record<Key, string> = {} as never;
  for (const region of ["us-east", "eu-west", "asia-pacific"] as const) {
    out[`region-down:${region}`] = `Every ${region} execution fails: the hybrid router answers 502 for that region (failure code ROUTER_HTTP_502, transient); the other regions answer.`;
    out[`router-timeout:${region}`] = `Every ${region} execution fails on a context deadline (failure code ROUTER_TIMEOUT, transient); the other regions answer.`;
    out[`router-hang:${region}`] = `The router never answers for ${region}: each of the runner's four inference paths waits out the HTTP client timeout, then the row fails with ROUTER_NETWORK (5 to 20 minutes after the start in production).`;
    out[`provider-missing:${region}`] = `The router has no provider for ${region}: queue-path rows fail with ROUTER_ERROR; the portal path plans no execution there (and writes no job status at all when fewer regions than min_regions remain).`;
    out[`modal-no-answer:${region}`] = `Modal answers ${region} with "Response extraction failed": the row reads completed, with no answer.`;
  }
  return out;
}

export type IncidentName = keyof typeof INCIDENTS;

export const INCIDENT_NAMES = Object.keys(INCIDENTS) as IncidentName[];

export interface IncidentState {
  name: IncidentName;
  on: boolean;
  description: string;
}

/** The runtime switchboard. */
export interface Incidents {
  /** Turns an incident on or off; throws on an unknown name. */
  set(name: IncidentName, on: boolean): void;
  isOn(name: IncidentName): boolean;
  /** Every incident, in declaration order, with its state and one-line description. */
  list(): IncidentState[];
  /** Turns everything off. */
  reset(): void;
}

export function isIncidentName(name: string): name is IncidentName {
  return Object.hasOwn(INCIDENTS, name);
}

export function createIncidents(initial: Partial<Record<IncidentName, boolean>> = {}): Incidents {
  const active = new Set<IncidentName>();
  const incidents: Incidents = {
    set(name, on) {
      if (!isIncidentName(name)) throw new Error(`unknown incident "${String(name)}"; known: ${INCIDENT_NAMES.join(", ")}`);
      if (on) active.add(name);
      else active.delete(name);
    },
    isOn: (name) => active.has(name),
    list: () => INCIDENT_NAMES.map((name) => ({ name, on: active.has(name), description: INCIDENTS[name] })),
    reset: () => active.clear(),
  };
  for (const [name, on] of Object.entries(initial)) incidents.set(name as IncidentName, Boolean(on));
  return incidents;
}
