import type { Redis } from "@upstash/redis";
import { errorText } from "../error-text.ts";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { BeaconSettings } from "../beacon/settings.ts";
import type { OutboxSettings } from "../probes/outbox/settings.ts";
import type { RemediationSettings } from "./settings.ts";
import type { Logger } from "../log.ts";
import type { SqlClient } from "../sql.ts";
import type { SlackMessage } from "../channels/slack/message.ts";
import type { Keys } from "../store/keys.ts";
import { auditSlackMessage, recordAudit, type AuditEntry } from "./audit.ts";
import { executeRepublish, JobOutcome } from "./execute.ts";
import { gather, jobsNow, type JobNow } from "./gather.ts";
import { applyQueue, blockedPlan, Plan, planRepublish } from "./plan.ts";
import { readQueuePresence } from "./queue.ts";
import { createClaims } from "../store/claims.ts";

export interface RemediationDeps {
  /** Beacon's Postgres (read-only); absent when BEACON_DATABASE_URL is unset. */
  sql?: SqlClient;
  /** Beacon's queue Redis: a job whose message is still there is not republished. Absent: nothing is. */
  beaconRedis?: Redis;
  /** The sentinel's store: audit trail and the execution lock. */
  redis: Redis;
  keys: Keys;
  /** The parts of SENTINEL_SETTINGS it reads: its own, Beacon's names, and the outbox probe's stuck thresholds. */
  settings: { remediation: RemediationSettings; beacon: BeaconSettings; probes: { outbox: OutboxSettings } };
  fetch: typeof fetch;
  now(): Date;
  sleep(ms: number): Promise<void>;
  log: Logger;
  redact(text: string): string;
  beaconApiUrl?: string;
  beaconAdminToken?: string;
  /** Posts the audit message; absent when Slack is not configured. */
  notify?: (message: SlackMessage) => Promise<{ ok: true } | { ok: false; error: string }>;
}

export interface RemediationRequest {
  execute: boolean;
  /** Jobs to consider; empty: every stuck job the outbox probe finds. */
  jobIds: string[];
  /** Who asks, for the audit: "cli:<user>" or "api:<token fingerprint>". */
  caller: string;
  /** Most jobs republished by this call (the rest are reported as remaining). */
  limit?: number;
}

export const RemediationReport = z.object({
  version: z.literal(1),
  generatedAt: z.iso.datetime(),
  dryRun: z.boolean(),
  summary: z.string(),
  plan: Plan,
  results: z.array(JobOutcome),
  remaining: z.array(z.string()),
  audit: z.object({ recorded: z.boolean(), slack: z.enum(["sent", "failed", "not-configured"]) }).nullable(),
});
export type RemediationReport = z.infer<typeof RemediationReport>;


/** One remediation at a time, across CLI and API callers. */
export const REMEDIATION_CLAIM = "remediation";

/** Plans (always) and, when asked to execute, republishes under a lock and audits what happened. */
export async function remediate(deps: RemediationDeps, request: RemediationRequest): Promise<RemediationReport> {
  const jobIds = [...new Set(request.jobIds)];
  const plan = await makePlan(deps, jobIds);
  const todo = plan.items.filter((i) => i.action === "republish").map((i) => i.jobId);
  const report = (extra: Partial<RemediationReport>): RemediationReport => {
    const r = { version: 1 as const, generatedAt: deps.now().toISOString(), dryRun: !request.execute, plan, results: [], remaining: [], audit: null, ...extra };
    return { ...r, summary: summarize(r) };
  };
  if (!request.execute) return report({});
  if (!plan.blocked && (!deps.beaconAdminToken || !deps.beaconApiUrl)) {
    plan.blocked = { code: "admin-token-missing", message: "BEACON_ADMIN_TOKEN is not set: Beacon's admin endpoints cannot be called", evidence: [] };
  }
  const now = todo.slice(0, request.limit ?? todo.length);
  const remaining = todo.slice(now.length);
  const s = deps.settings.remediation;
  const token = randomUUID();
  const claims = createClaims(deps.redis, deps.keys);
  let locked = false;
  if (!plan.blocked && now.length > 0) {
    const ttl = now.length * (s.adminIntervalMs * s.attemptsPerJob + s.requestTimeoutMs) + 30_000;
    locked = await claims.claim(REMEDIATION_CLAIM, token, ttl);
    if (!locked) plan.blocked = { code: "busy", message: "another remediation is running now: try again when it finishes", evidence: [] };
  }
  try {
    const results = plan.blocked ? [] : await executeRepublish(now, {
      fetch: deps.fetch, now: deps.now, sleep: deps.sleep, log: deps.log, settings: s, adminToken: deps.beaconAdminToken ?? "",
      url: `${(deps.beaconApiUrl ?? "").replace(/\/$/, "")}${deps.settings.beacon.routes.republishJob}`,
      recheck: (id) => recheck(deps, id),
    });
    const entry: AuditEntry = {
      version: 1, at: deps.now().toISOString(), action: "republish-job", caller: request.caller, requested: jobIds,
      blocked: plan.blocked ? { code: plan.blocked.code, message: plan.blocked.message } : null, results, remaining: plan.blocked ? [] : remaining,
    };
    await recordAudit(deps.redis, deps.keys, entry, s.auditLength);
    let slack: "sent" | "failed" | "not-configured" = "not-configured";
    // Slack hears of every refusal and every republish attempt; "nothing to do" stays in the store only.
    if (deps.notify && (entry.blocked || results.length > 0)) {
      const sent = await deps.notify(auditSlackMessage(entry, deps.redact));
      slack = sent.ok ? "sent" : "failed";
      if (!sent.ok) deps.log.warn("the remediation audit could not be posted to Slack", { error: sent.error });
    }
    return report({ results, remaining: entry.remaining, audit: { recorded: true, slack } });
  } finally {
    if (locked) await claims.release(REMEDIATION_CLAIM, token).catch(() => false);
  }
}

async function makePlan(deps: RemediationDeps, jobIds: string[]): Promise<Plan> {
  if (!deps.sql) return blockedPlan("database-not-configured", "BEACON_DATABASE_URL is not set: stuck jobs cannot be found or judged");
  const outbox = deps.settings.probes.outbox;
  let plan: Plan;
  try {
    plan = planRepublish(await gather(deps.sql, deps.settings.beacon, outbox, jobIds), outbox, jobIds);
  } catch (error) {
    return blockedPlan("database-unreachable", `Beacon's database could not be read, so nothing can be judged safely: ${reason(error)}`);
  }
  const candidates = plan.items.filter((i) => i.action === "republish").map((i) => i.jobId);
  if (candidates.length === 0 || plan.blocked) return plan;
  if (!deps.beaconRedis) {
    return { ...plan, blocked: { code: "queue-not-configured", evidence: [],
      message: "BEACON_REDIS_REST_URL is not set: whether a job's message still waits in Beacon's queue cannot be checked, and republishing a waiting job runs it twice" } };
  }
  try {
    return applyQueue(plan, (await readQueue(deps, candidates)).held);
  } catch (error) {
    return { ...plan, blocked: { code: "queue-unreadable", evidence: [], message: `Beacon's queue could not be checked, so nothing can be judged safely: ${reason(error)}` } };
  }
}

function readQueue(deps: RemediationDeps, jobIds: string[]) {
  return readQueuePresence(deps.beaconRedis!, deps.settings.beacon.queue, jobIds, {
    maxEntries: deps.settings.remediation.queueMaxEntries, scanCount: 1000, maxScanCalls: 50,
  });
}

/** The job right before its republish: its row, and whether the queue took its message meanwhile. */
async function recheck(deps: RemediationDeps, id: string): Promise<JobNow | undefined> {
  const now = (await jobsNow(deps.sql!, deps.settings.beacon, [id]))[0];
  if (!now || now.status !== "created" || now.unpublished > 0) return now;
  try {
    const held = (await readQueue(deps, [id])).held.get(id);
    return held ? { ...now, queued: held } : now;
  } catch (error) {
    return { ...now, queued: `Beacon's queue could not be checked (${reason(error)})` };
  }
}

function reason(error: unknown): string {
  return errorText(error);
}

export function summarize(r: Omit<RemediationReport, "summary">): string {
  const candidates = r.plan.items.filter((i) => i.action === "republish").length;
  const refused = r.plan.items.length - candidates;
  const found = `${r.plan.items.length} job(s) considered: ${candidates} can be republished, ${refused} refused`;
  if (r.plan.blocked) return `refused (${r.plan.blocked.code}): ${r.plan.blocked.message} [${found}]`;
  if (r.dryRun) return `dry run: ${found}; nothing was changed`;
  const done = r.results.filter((x) => x.outcome === "republished").length;
  const more = r.remaining.length ? `; ${r.remaining.length} left for the next run` : "";
  return `republished ${done} of ${r.results.length} job(s)${more}`;
}
