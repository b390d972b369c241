import { z } from "zod";
import { BeaconSettings } from "../beacon/settings.ts";
import { CREDENTIAL_URLS, EnvSchema, SECRET_VARIABLES, WHOLE_URL_SECRETS, type Env } from "./env.ts";
import { ProbeSettings, CATALOG as PROBES } from "../probes/catalog.ts";
import type { BeaconWork } from "../probes/types.ts";
import { validSchedule } from "../schedule.ts";
import { TickSettings } from "../tick/settings.ts";
import { AlertingSettings } from "../alerting/settings.ts";
import { Objectives } from "../slo/objectives.ts";
import { RemediationSettings } from "../remediation/settings.ts";
import { secretsOfUrl } from "../redact.ts";
import { CHANNELS, CHANNEL_VARIABLES, ChannelSettings, type ChannelDeployment } from "../channels/catalog.ts";
import { Routes } from "../channels/routes.ts";
import type { ChannelDefinition } from "../channels/types.ts";

/** Thresholds, schedules and Beacon's names: code defaults, overridden by the SENTINEL_SETTINGS JSON. */
export const Settings = z
  .object({
    beacon: BeaconSettings.prefault({}),
    probes: ProbeSettings.prefault({}),
    alerting: AlertingSettings.prefault({}),
    remediation: RemediationSettings.prefault({}),
    /** Replaces the default objectives as a whole when given. */
    slos: Objectives,
    /** Each probe's cadence as a UTC cron, e.g. {"receipts": "every 10 minutes" as a cron}; unset probes keep their own. */
    schedules: z.record(z.string(), z.string()).default({}).superRefine((schedules, ctx) => {
      for (const [id, cron] of Object.entries(schedules)) {
        if (!PROBES.some((p) => p.id === id)) ctx.addIssue({ code: "custom", path: [id], message: `no probe "${id}" (known: ${PROBES.map((p) => p.id).join(", ")})` });
        else if (!validSchedule(cron)) ctx.addIssue({ code: "custom", path: [id], message: `"${cron}" is not a cron expression (UTC, e.g. "*/5 * * * *")` });
      }
    }),
    tick: TickSettings.prefault({}),
    /** Each channel's options (its secrets come from the environment). */
    channels: ChannelSettings.prefault({}),
    /** Which notifications go to which channels (shared/channels/routes.ts; default: all to Slack, Alertmanager and the webhook, pages to PagerDuty). */
    routes: Routes,
  })
  .strict()
  .superRefine((settings, ctx) => {
    // One cadence for every statement, or the minutes in between wake Neon again: a probe's own schedule and health's own database cadence may not say otherwise.
    const every = settings.beacon.database.everyMinutes;
    if (every === undefined) return;
    const own = `beacon.database.everyMinutes (${every}) sets it`;
    for (const p of PROBES) {
      if (followsDatabaseCadence(p) && settings.schedules[p.id] !== undefined) ctx.addIssue({ code: "custom", path: ["schedules", p.id], message: `${own}: remove one of the two` });
    }
    const health = settings.probes.health.databaseEveryMinutes;
    if (health !== undefined && health % every !== 0) ctx.addIssue({ code: "custom", path: ["probes", "health", "databaseEveryMinutes"], message: `${own}: a multiple of it, or unset` });
  });
export type Settings = z.infer<typeof Settings>;

/** How the scheduled work is split into functions (SENTINEL_TOPOLOGY). */
export type Topology = NonNullable<Env["SENTINEL_TOPOLOGY"]>;
export const TOPOLOGIES: readonly Topology[] = ["tick", "per-probe"];

export interface Config {
  beaconApiUrl?: string;
  /** BEACON_PORTAL_URL: the canary submits through the portal's /api/v1 proxy and reads back through both. */
  portalUrl?: string;
  /** BEACON_ROUTER_URL: the hybrid router, whose /health the regions probe checks. */
  routerUrl?: string;
  healthUrls: { name: string; url: string }[];
  database?: { connectionString: string; wsProxy?: string };
  beaconRedis?: { url: string; token: string };
  /** Where results and alert state live: SENTINEL_REDIS_*, defaulting to Beacon's Redis. */
  store?: { url: string; token: string; keyPrefix: string };
  /** SLACK_WEBHOOK_URL, which remediation's notes use too. */
  slackWebhookUrl?: string;
  /** SENTINEL_HEARTBEAT_URL: pinged after every scheduled tick (success, or `/fail` with the reason). */
  heartbeatUrl?: string;
  /** The other channels, each present when its variables are set (shared/channels/catalog.ts). */
  channels: ChannelDeployment["channels"];
  adminToken?: string;
  beaconAdminToken?: string;
  statusUrl?: string;
  /** CANARY_SIGNING_KEY: the canary's Ed25519 private key; absent, the canary is disabled. */
  canarySigningKey?: string;
  /** Whether the status routes (status, page, badge, metrics) answer without a token. Default true. */
  publicStatus: boolean;
  /**
   * What the status routes show: everything ("full"), or, with SENTINEL_PUBLIC_STATUS=summary, states,
   * timings and SLOs without the free text that names internal hosts and the database ("summary").
   */
  statusView: "full" | "summary";
  /** Read-only token for the status routes when they are not public. */
  statusToken?: string;
  /** Browser origins allowed to read the status API (CORS), e.g. the portal's. */
  corsOrigins: string[];
  /** SENTINEL_TOPOLOGY: one tick runs the probes and evaluates (default), or each probe runs in its own function and the tick only evaluates. */
  topology: Topology;
  settings: Settings;
  /** Every configured secret value, for redaction. */
  secrets: string[];
}

/** Thrown when the configuration is unusable; lists every problem, each naming its variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export interface LoadOptions {
  /** The store may be absent only for runs that write nothing (dry runs). */
  requireStore?: boolean;
  /** Beacon's API may be absent for commands that only read the configuration (`sentinel cost`). */
  requireBeacon?: boolean;
}

export function loadConfig(env: Record<string, string | undefined>, options: LoadOptions = {}): Config {
  const problems: string[] = [];
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) for (const issue of parsed.error.issues) problems.push(`${issue.path.join(".")}: ${issue.message}`);
  const e: Partial<Env> = parsed.success ? parsed.data : {};

  // Validated on its own so that its problems are listed even when other variables are wrong too.
  const settings = Settings.safeParse(settingsInput(env.SENTINEL_SETTINGS));
  if (!settings.success) problems.push(...settings.error.issues.map(settingsProblem));

  if (options.requireBeacon !== false && !env.BEACON_API_URL?.trim()) problems.push("BEACON_API_URL: required (base URL of the Beacon runner API)");
  pair(problems, env, "BEACON_REDIS_REST_URL", "BEACON_REDIS_REST_TOKEN");
  pair(problems, env, "SENTINEL_REDIS_REST_URL", "SENTINEL_REDIS_REST_TOKEN");
  const storeUrl = e.SENTINEL_REDIS_REST_URL ?? e.BEACON_REDIS_REST_URL;
  const storeToken = e.SENTINEL_REDIS_REST_URL ? e.SENTINEL_REDIS_REST_TOKEN : e.BEACON_REDIS_REST_TOKEN;
  if (options.requireStore !== false && !env.SENTINEL_REDIS_REST_URL?.trim() && !env.BEACON_REDIS_REST_URL?.trim()) {
    problems.push("SENTINEL_REDIS_REST_URL: required to store results (or set BEACON_REDIS_REST_URL to share Beacon's Redis)");
  }
  if (env.SENTINEL_PUBLIC_STATUS?.trim() === "false" && !env.SENTINEL_STATUS_TOKEN?.trim() && !env.SENTINEL_ADMIN_TOKEN?.trim()) {
    problems.push("SENTINEL_PUBLIC_STATUS: false needs SENTINEL_STATUS_TOKEN (or SENTINEL_ADMIN_TOKEN) to let anyone read the status");
  }
  for (const c of CHANNELS as readonly ChannelDefinition<unknown>[]) for (const group of c.together ?? []) together(problems, env, group);
  if (settings.success && Object.hasOwn(settingsInput(env.SENTINEL_SETTINGS) as object, "routes")) {
    // Routes written by hand must name channels that exist; the default routes skip unset ones.
    const variable = CHANNEL_VARIABLES;
    settings.data.routes.forEach((route, i) => route.channels.forEach((c, j) => {
      if (!env[variable[c]]?.trim()) problems.push(`SENTINEL_SETTINGS.routes.${i}.channels.${j}: routes to ${c}, but ${variable[c]} is not set`);
    }));
  }
  if (problems.length > 0 || !settings.success) throw new ConfigError(problems);

  return {
    beaconApiUrl: e.BEACON_API_URL,
    portalUrl: e.BEACON_PORTAL_URL,
    routerUrl: e.BEACON_ROUTER_URL,
    healthUrls: e.BEACON_HEALTH_URLS ?? [],
    database: e.BEACON_DATABASE_URL ? { connectionString: e.BEACON_DATABASE_URL, wsProxy: e.NEON_WS_PROXY } : undefined,
    beaconRedis: e.BEACON_REDIS_REST_URL && e.BEACON_REDIS_REST_TOKEN ? { url: e.BEACON_REDIS_REST_URL, token: e.BEACON_REDIS_REST_TOKEN } : undefined,
    store: storeUrl && storeToken ? { url: storeUrl, token: storeToken, keyPrefix: e.SENTINEL_KEY_PREFIX ?? "sentinel:" } : undefined,
    slackWebhookUrl: (e as Record<string, unknown>).SLACK_WEBHOOK_URL as string | undefined,
    heartbeatUrl: e.SENTINEL_HEARTBEAT_URL,
    channels: channelDeployment(e),
    adminToken: e.SENTINEL_ADMIN_TOKEN,
    beaconAdminToken: e.BEACON_ADMIN_TOKEN,
    statusUrl: e.SENTINEL_STATUS_URL,
    canarySigningKey: e.CANARY_SIGNING_KEY?.trim(),
    publicStatus: e.SENTINEL_PUBLIC_STATUS !== "false",
    statusView: e.SENTINEL_PUBLIC_STATUS === "summary" ? "summary" : "full",
    statusToken: e.SENTINEL_STATUS_TOKEN,
    corsOrigins: e.SENTINEL_CORS_ORIGIN ?? [],
    topology: e.SENTINEL_TOPOLOGY ?? "tick",
    settings: settings.data,
    secrets: collectSecrets(env),
  };
}

/**
 * SENTINEL_SETTINGS alone (JSON syntax, then the schema), for commands that need no deployment, such
 * as `sentinel export`. Throws ConfigError listing every problem.
 */
export function loadSettings(env: Record<string, string | undefined>): Settings {
  const problems: string[] = [];
  const raw = EnvSchema.pick({ SENTINEL_SETTINGS: true }).safeParse(env);
  if (!raw.success) for (const issue of raw.error.issues) problems.push(`${issue.path.join(".")}: ${issue.message}`);
  const settings = Settings.safeParse(settingsInput(env.SENTINEL_SETTINGS));
  if (!settings.success) problems.push(...settings.error.issues.map(settingsProblem));
  if (problems.length > 0 || !settings.success) throw new ConfigError(problems);
  return settings.data;
}

/** `SENTINEL_SETTINGS.probes.health.latencyWarnMs: ...`, or `SENTINEL_SETTINGS: ...` for the object itself. */
function settingsProblem(issue: z.core.$ZodIssue): string {
  return `${["SENTINEL_SETTINGS", ...issue.path.map(String)].join(".")}: ${issue.message}`;
}

/** URL and token variables come in pairs; judged on the raw values so it is reported alongside format problems. */
function pair(problems: string[], env: Record<string, string | undefined>, url: string, token: string) {
  const has = (name: string) => Boolean(env[name]?.trim());
  if (has(url) && !has(token)) problems.push(`${token}: required when ${url} is set`);
  if (has(token) && !has(url)) problems.push(`${url}: required when ${token} is set`);
}

/** Variables that need each other (a channel's `together`): each one missing is named with those that are set. */
function together(problems: string[], env: Record<string, string | undefined>, group: readonly string[]) {
  const set = group.filter((name) => env[name]?.trim());
  if (set.length === 0 || set.length === group.length) return;
  for (const name of group) if (!set.includes(name)) problems.push(`${name}: required when ${set.join(" and ")} ${set.length > 1 ? "are" : "is"} set`);
}

function settingsInput(raw: string | undefined): unknown {
  try {
    const value: unknown = raw?.trim() ? JSON.parse(raw) : {};
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {}; // the JSON problem itself is reported by EnvSchema
  }
}

/**
 * A probe's effective cadence: SENTINEL_SETTINGS.schedules, else, for a probe that runs SQL, every
 * `beacon.database.everyMinutes` (on the same minutes for all of them), else its own default.
 */
export function scheduleOf(settings: Settings, probe: { id: string; schedule: string; beaconPerRun?: BeaconWork }): string {
  const every = settings.beacon.database.everyMinutes;
  const mine = settings.schedules[probe.id];
  if (mine !== undefined) return mine;
  if (every !== undefined && followsDatabaseCadence(probe)) return every === 60 ? "0 * * * *" : `*/${every} * * * *`;
  return probe.schedule;
}

/** A probe whose schedule `beacon.database.everyMinutes` sets: one that runs SQL and does not align it itself (the canary). */
function followsDatabaseCadence(probe: { beaconPerRun?: BeaconWork }): boolean {
  return (probe.beaconPerRun?.sql ?? 0) > 0 && !probe.beaconPerRun?.alignsItsSql;
}

/**
 * Each configured channel's own variables, validated (catalog order; slack before pagerduty...): a
 * channel is configured when every variable it declares is set.
 */
function channelDeployment(e: Partial<Env>): ChannelDeployment["channels"] {
  const values: Record<string, unknown> = e;
  const configured = CHANNELS.flatMap((c) => {
    const names = Object.keys(c.env);
    return names.every((n) => values[n]) ? [[c.name, Object.fromEntries(names.map((n) => [n, values[n]]))] as const] : [];
  });
  // Each entry holds exactly the variables its channel declares, each set, as EnvSchema parsed them with the channel's schemas.
  return Object.fromEntries(configured) as ChannelDeployment["channels"];
}

/**
 * Every secret the environment holds, for the redactor: the secret variables' values, and the
 * credentials and query values of EVERY configured URL (BEACON_API_URL, each BEACON_HEALTH_URLS
 * entry, the database, both Redis URLs, the Slack webhook, the heartbeat URL, the status URL). Read
 * from the raw environment, so a configuration that fails validation is still redacted when it is reported.
 */
export function collectSecrets(env: Record<string, string | undefined>): string[] {
  const values = SECRET_VARIABLES.flatMap((name) => {
    const value = env[name];
    if (!value) return [];
    // These are secret as a whole (the Slack token, the heartbeat's check id and the webhook's path are the URL's path), and in their parts.
    return WHOLE_URL_SECRETS.has(name) ? secretsOfUrl(value, { whole: true }) : [value];
  });
  const urls = [
    env.BEACON_API_URL, env.BEACON_ROUTER_URL, env.BEACON_REDIS_REST_URL, env.SENTINEL_REDIS_REST_URL, env.SENTINEL_STATUS_URL, ...CREDENTIAL_URLS.map((name) => env[name]),
    ...healthUrlValues(env.BEACON_HEALTH_URLS),
  ];
  return [...new Set([...values, ...urls.flatMap((url) => secretsOfUrl(url?.trim()))])];
}

/** The URL part of each `name=url` entry of BEACON_HEALTH_URLS, valid or not. */
function healthUrlValues(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw.split(",").map((part) => part.slice(part.indexOf("=") + 1).trim()).filter(Boolean);
}
