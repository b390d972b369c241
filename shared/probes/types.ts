import type { z } from "zod";
import type { Redis } from "@upstash/redis";
import type { Check, EventCounts } from "../result.ts";
import type { BeaconSettings } from "../beacon/settings.ts";
import type { SqlClient } from "../sql.ts";
import type { Logger } from "../log.ts";
import type { Claims } from "../store/claims.ts";

/** The pipeline stages, in the order a job travels them; probes and the status page speak of these. */
export const STAGES = ["portal", "runner-api", "database", "outbox", "queue", "worker", "receipts"] as const;
export type Stage = (typeof STAGES)[number];

/**
 * The alert keys dependencies are declared with (`dependsOn`, `checkDependsOn`, an objective's
 * `dependsOn`): the runner reachable and ready, the database, Beacon's Redis, the queue and the outbox.
 */
export const ROOTS = {
  runner: ["check/health/runner-health", "check/health/runner-ready", "check/health/runner-db"],
  database: ["check/health/database"],
  redis: ["check/health/redis"],
  queue: ["queue-depth", "queue-latency", "message-contract", "retry-overdue", "dead-letter-growth"].map((c) => `check/queue/${c}`),
  outbox: ["check/outbox/outbox-backlog", "check/outbox/outbox-lag"],
} as const;

/** What a probe may touch. Anything a probe needs that is not configured is absent, never faked. */
export interface ProbeDeps {
  now(): Date;
  fetch: typeof fetch;
  log: Logger;
  /** Beacon's Postgres, read-only with a statement timeout; absent when BEACON_DATABASE_URL is unset. */
  sql?: SqlClient;
  /** Beacon's queue Redis through the Upstash REST API; absent when not configured. */
  beaconRedis?: Redis;
  /**
   * Atomic claims in the sentinel's own store, for a probe that must act once across concurrent
   * invocations (the canary submits one job at a time). Absent in dry runs, which write nothing.
   */
  claims?: Claims;
}

export interface ProbeTargets {
  apiUrl?: string;
  /** The portal whose `/api/v1` proxy the canary submits through (BEACON_PORTAL_URL); absent: the runner API only. */
  portalUrl?: string;
  /** The hybrid router (BEACON_ROUTER_URL); absent: no `router` check. */
  routerUrl?: string;
  healthUrls: { name: string; url: string }[];
  /** Where the SQL and Redis dependencies point, for evidence (never with credentials). */
  databaseLabel?: string;
  redisLabel?: string;
  beaconAdminToken?: string;
  /** The canary's Ed25519 private key (base64 32-byte seed, CANARY_SIGNING_KEY); absent: canary disabled. */
  canarySigningKey?: string;
}

export interface ProbeContext<S> {
  deps: ProbeDeps;
  settings: S;
  beacon: BeaconSettings;
  targets: ProbeTargets;
  signal: AbortSignal;
  /** State this probe saved on its previous run (stateful probes only), or undefined on the first run. */
  previousState?: unknown;
  /** A run asked for by name, not a scheduled one: checks with a cadence of their own (health's PING) run too. */
  manual?: boolean;
}

export interface ProbeOutput {
  checks: Check[];
  /** SLI events this run observed (see ProbeResult.events). */
  events?: Record<string, EventCounts>;
  /** State to keep for the next run, written with the result in the same round trip. */
  state?: unknown;
}

/**
 * What a probe is, without what it does: all that the configuration, the alerts and the status need.
 * Each probe declares it in its folder's `definition.ts`; catalog.ts lists them, so a function that
 * runs no probe ships no probe code.
 */
export interface ProbeDefinition<S extends { timeoutMs: number } = { timeoutMs: number }> {
  id: string;
  title: string;
  /** The probe's home stage: where its result lands unless a check is about another one (`checkStages`). */
  stage: Stage;
  /** Default cron schedule (UTC). The function file repeats it literally because Netlify reads it statically. */
  schedule: string;
  /** Validates and defaults this probe's part of SENTINEL_SETTINGS (`probes.<id>`). */
  settings: z.ZodType<S>;
  /** Whether the runner must load the previous state before running (costs one more store read). */
  stateful?: boolean;
  /**
   * Checks about another stage than the home one, by exact name, then by name prefix. The alerts, the
   * status cards, the Prometheus stage series and the CLI all place a check through `stageOfCheck`
   * (catalog.ts), so they agree.
   */
  checkStages?: { readonly byName?: Readonly<Record<string, Stage>>; readonly byPrefix?: readonly (readonly [prefix: string, stage: Stage])[] };
  /** What an operator does first when this probe alerts, shown in its alerts (`alerting.nextSteps` default). */
  nextStep?: string;
  /**
   * Alerts that are root causes of this probe's (`alerting.dependencies` default, alert keys such as
   * "check/health/redis"): while one fires, this probe's checks and blindness are held behind it.
   */
  dependsOn?: readonly string[];
  /**
   * Root causes of some checks only, by exact check name, then by name prefix (alert keys, as
   * `dependsOn`): added to the probe's own. Together they follow the real stages, so that one fault
   * pages once, for its root cause (README: "One fault, one page").
   */
  checkDependsOn?: {
    readonly byName?: Readonly<Record<string, readonly string[]>>;
    readonly byPrefix?: readonly (readonly [prefix: string, dependsOn: readonly string[]])[];
  };
  /**
   * Why this probe cannot run without the sentinel's store (its claims, across runs): a dry run, which
   * writes nothing, skips it with this reason instead of reporting it blind (`sentinel run all --dry-run`).
   */
  needsStore?: string;
  /** Work one run costs Beacon (HTTP requests, SQL statements, Redis commands), as the bench measures it: `sentinel cost` projects it. */
  beaconPerRun?: BeaconWork;
}

/** Work on Beacon's side of one probe run; `perHealthUrl` more requests for each BEACON_HEALTH_URLS entry. */
export interface BeaconWork {
  http: number;
  sql: number;
  redis: number;
  perHealthUrl?: number;
  /**
   * The run needs a database connection even when it sends no statement of its own (health: the
   * answer to the connection's set-up statement is its `database` check; `SELECT 1` only on a reused one).
   */
  sqlConnects?: boolean;
  /** The Redis commands are sent on the minutes divisible by this only (health's PING, `redisEveryMinutes`), not on every run. */
  redisEveryMinutes?: number;
  /**
   * The probe keeps its own schedule under `beacon.database.everyMinutes` and aligns its SQL itself: the
   * canary runs every minute to follow its job in flight, and submits only on those minutes.
   */
  alignsItsSql?: boolean;
}

/** A probe measures one stage of the pipeline. It never writes to the store and never swallows errors. */
export interface Probe<S extends { timeoutMs: number } = { timeoutMs: number }> extends ProbeDefinition<S> {
  run(ctx: ProbeContext<S>): Promise<ProbeOutput>;
}

/** A probe of any settings type: what the registry and the runner hold. */
// biome-ignore lint: a registry holds probes whose settings types differ
export type AnyProbe = Probe<any>;
