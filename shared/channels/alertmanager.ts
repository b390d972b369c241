import { createHash } from "node:crypto";
import { MEMORY_LOST_KEY } from "../alerting/ledger.ts";
import { z } from "zod";
import type { Notification } from "../alerting/notification.ts";
import type { AlertRecord } from "../alerting/state.ts";
import { safeUrl } from "../redact.ts";
import { postJson, postWithRetries } from "./http.ts";
import { RequestTimeoutMs, type Channel, type ChannelDefinition, type ChannelEnv } from "./types.ts";
import { HttpUrl, optional } from "../env-values.ts";
import { redactDeep } from "../redact.ts";

/**
 * Alertmanager's API v2 (`POST /api/v2/alerts`): the sentinel acts like a Prometheus server. An alert
 * is identified by its labels, so posting the same alert again is idempotent and every retry is safe.
 * Alertmanager resolves an alert whose `endsAt` passes, so a firing alert is re-posted EVERY tick with
 * `endsAt` `endsAfterMinutes` ahead (Prometheus does the same with 4 × its resend delay): a sentinel
 * that stops leaves no alert firing forever. A resolution is posted with `endsAt` at the time it
 * resolved. One request per tick carries every alert.
 */

/** `channels.alertmanager` of SENTINEL_SETTINGS. */
export const AlertmanagerSettings = z.object({
  /** Labels added to every alert, e.g. {"team": "beacon"}, for Alertmanager's own routes. */
  labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "a label name is [a-zA-Z_][a-zA-Z0-9_]*"), z.string()).default({}),
  /**
   * A firing alert is re-posted every tick with endsAt this far ahead, in minutes (Prometheus uses
   * 4 × its resend delay): if the sentinel stops, Alertmanager resolves it by itself after that long.
   */
  endsAfterMinutes: z.number().int().min(2).max(60).default(4),
  requestTimeoutMs: RequestTimeoutMs,
}).strict();
export type AlertmanagerSettings = z.infer<typeof AlertmanagerSettings>;

/** Alertmanager's variables. */
const ENV = {
  /** Base URL of an Alertmanager (alerts go to <url>/api/v2/alerts); user info is sent as Basic authorization. */
  ALERTMANAGER_URL: { schema: optional(HttpUrl), secret: "credentials" },
} as const satisfies ChannelEnv;

/** Alertmanager in the channel catalog: switched on by ALERTMANAGER_URL. */
export const ALERTMANAGER = {
  name: "alertmanager",
  variable: "ALERTMANAGER_URL",
  env: ENV,
  settings: AlertmanagerSettings,
  create: ({ env, settings, ...common }) => createAlertmanagerChannel({ ...common, url: env.ALERTMANAGER_URL, settings }),
} as const satisfies ChannelDefinition<AlertmanagerSettings, typeof ENV>;

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

const ALERTNAME = { check: "SentinelCheckFailing", missing: "SentinelProbeMissing", blind: "SentinelProbeBlind", slo: "SentinelSloBurning" } as const;

type Source = Pick<Notification, "alertKey" | "alertType" | "stage" | "probe" | "check" | "slo" | "severity" | "title" | "message" | "observed" | "threshold" | "evidence" | "evidenceTotal" | "since" | "nextStep">;

/**
 * The alerts to post: the latest owed notification per alert, overridden by what fires now (the
 * current truth). Pure.
 */
export function alertmanagerAlerts(owed: Notification[], firing: AlertRecord[], o: { now: Date; endsAfterMinutes: number; labels: Record<string, string>; statusUrl?: string }): AlertmanagerAlert[] {
  const ahead = new Date(o.now.getTime() + o.endsAfterMinutes * 60_000).toISOString();
  const byKey = new Map<string, AlertmanagerAlert>();
  for (const n of owed) {
    // The memory-lost note is not an alert: posted, Alertmanager would fire it.
    if (n.alertKey === MEMORY_LOST_KEY) continue;
    const endsAt = n.kind === "resolved" ? resolvedAt(n, o.now) : ahead;
    byKey.set(n.alertKey, toAlert(n, n.since, endsAt, o));
  }
  for (const a of firing) {
    if (!a.since) continue;
    const source: Source = { ...a.snapshot, alertKey: a.key, alertType: a.type, stage: a.stage, probe: a.probe, check: a.check, slo: a.slo, severity: a.severity, since: a.since };
    byKey.set(a.key, toAlert(source, a.since, ahead, o));
  }
  return [...byKey.values()];
}

/** Alertmanager identifies an alert by its label set: the ledger keeps a hash of it (sorted names and values). */
export function labelsFingerprint(labels: Record<string, string>): string {
  const sorted = Object.keys(labels).sort().map((k) => [k, labels[k]]);
  return createHash("sha256").update(JSON.stringify(sorted)).digest("hex").slice(0, 16);
}

function resolvedAt(n: Notification, now: Date): string {
  const since = Date.parse(n.since);
  if (n.durationMs !== undefined && !Number.isNaN(since)) return new Date(since + n.durationMs).toISOString();
  return now.toISOString();
}

function toAlert(n: Source, startsAt: string, endsAt: string, o: { labels: Record<string, string>; statusUrl?: string }): AlertmanagerAlert {
  const labels: Record<string, string> = {
    ...o.labels,
    alertname: ALERTNAME[n.alertType],
    alert_key: n.alertKey,
    severity: n.severity,
    stage: n.stage,
    source: "beacon-sentinel",
    ...(n.probe ? { probe: n.probe } : {}),
    ...(n.check ? { check: n.check } : {}),
    ...(n.slo ? { slo: n.slo } : {}),
  };
  const annotations: Record<string, string> = {
    summary: n.title,
    description: n.message,
    observed: String(n.observed),
    threshold: String(n.threshold),
    ...(n.evidence.length ? { evidence: [...n.evidence.slice(0, 5), ...(n.evidenceTotal > 5 ? [`…and ${n.evidenceTotal - 5} more`] : [])].join("\n") } : {}),
    ...(n.nextStep ? { next_step: n.nextStep } : {}),
    ...(o.statusUrl ? { status_page: o.statusUrl } : {}),
  };
  // Alertmanager rejects an alert that ends before it starts.
  const end = Date.parse(endsAt) < Date.parse(startsAt) ? startsAt : endsAt;
  return { labels, annotations, startsAt, endsAt: end, ...(o.statusUrl ? { generatorURL: o.statusUrl } : {}) };
}

export function createAlertmanagerChannel(options: {
  url: string; settings: AlertmanagerSettings; statusUrl?: string; fetch: typeof fetch; redact: (s: string) => string; budgetMs: number;
}): Channel {
  const { settings } = options;
  const base = new URL(options.url);
  const basic: Record<string, string> = base.username ? { authorization: `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString("base64")}` } : {};
  base.username = "";
  base.password = "";
  const endpoint = new URL(`${base.pathname.replace(/\/$/, "")}/api/v2/alerts`, base).href;
  const scrub = (s: string) => options.redact(s).split(safeUrl(options.url)).join("Alertmanager");
  return {
    name: "alertmanager",
    budgetMs: options.budgetMs,
    refiresWhileFiring: true,
    deduplicates: true,
    keyOf: (n) => labelsFingerprint(toAlert(n, n.since, n.since, { labels: settings.labels }).labels),
    async deliver(owed, { now, firing }) {
      const alerts = alertmanagerAlerts(owed, firing, { now, endsAfterMinutes: settings.endsAfterMinutes, labels: settings.labels, statusUrl: options.statusUrl });
      const ids = owed.map((n) => n.id);
      if (alerts.length === 0) return { delivered: ids, abandoned: [] };
      const body = JSON.stringify(redactDeep(alerts, options.redact));
      const outcome = await postWithRetries(
        () => postJson(endpoint, body, { fetch: options.fetch, name: "Alertmanager", timeoutMs: settings.requestTimeoutMs, headers: basic, scrub }),
        { maxAttempts: 3, budgetMs: options.budgetMs, timeoutMs: settings.requestTimeoutMs, retryUnknown: true },
      );
      if (outcome.kind === "ok") return { delivered: ids, abandoned: [] };
      return { delivered: [], abandoned: [], error: outcome.error };
    },
  };
}
