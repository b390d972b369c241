import { z } from "zod";
import { publicKeyFromPrivateKey } from "../beacon/signing.ts";
import { findJsonSyntaxError } from "./json-syntax.ts";

/**
 * The environment variables: the public contract operators and scripts rely on. This is the only
 * module that interprets them; callers pass the environment in (process.env, Netlify.env) so nothing
 * else reaches for globals.
 */

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), schema.optional());

const HttpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

const HealthUrls = z.string().transform((raw, ctx) => {
  const pairs: { name: string; url: string }[] = [];
  for (const part of raw.split(",").map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    const name = eq > 0 ? part.slice(0, eq).trim() : "";
    const url = eq > 0 ? part.slice(eq + 1).trim() : "";
    if (!/^[a-z0-9][a-z0-9_-]*$/i.test(name) || !HttpUrl.safeParse(url).success) {
      // Never echo credentials or query values, even of a value that is not a URL at all.
      const shown = part.replace(/[^\s=/]*@/, "…@").replace(/\?.*$/, "?…").slice(0, 80);
      ctx.addIssue({ code: "custom", message: `"${shown}" is not a name=http(s)-url pair` });
      continue;
    }
    pairs.push({ name, url });
  }
  return pairs;
});

/** Comma-separated browser origins (scheme://host[:port], no path), e.g. the portal's. */
const Origins = z.string().transform((raw, ctx) => {
  const origins: string[] = [];
  for (const part of raw.split(",").map((p) => p.trim()).filter(Boolean)) {
    let origin: string | undefined;
    try {
      const url = new URL(part);
      if ((url.protocol === "https:" || url.protocol === "http:") && url.origin === part.replace(/\/$/, "")) origin = url.origin;
    } catch {
      /* reported below */
    }
    if (origin) origins.push(origin);
    else ctx.addIssue({ code: "custom", message: `"${part.slice(0, 80)}" is not an origin such as https://portal.example.org` });
  }
  return origins;
});

/** A JSON object; a syntax error is reported with where it is, never with the text around it. */
const JsonObject = z.string().transform((raw, ctx) => {
  const broken = findJsonSyntaxError(raw);
  if (broken) {
    ctx.addIssue({ code: "custom", message: `not valid JSON at line ${broken.line}, column ${broken.column} (character ${broken.offset + 1}): ${broken.expected}` });
    return z.NEVER;
  }
  const value: unknown = JSON.parse(raw);
  if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  ctx.addIssue({ code: "custom", message: `must be a JSON object ({...}), not ${Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`}` });
  return z.NEVER;
});

/** An Ed25519 private key as signJobSpec takes it; the value itself is never echoed in a problem. */
const SigningKey = z.string().refine((raw) => {
  try {
    return publicKeyFromPrivateKey(raw.trim()).length > 0;
  } catch {
    return false;
  }
}, "must be base64 of a 32-byte Ed25519 seed (generate one with: npx beacon-sentinel canary-key)");

/**
 * An SMTP server with its credentials. Problems name the scheme or the part that is wrong, never the
 * value (it holds a password).
 */
const SmtpUrl = z.string().trim().superRefine((raw, ctx) => {
  const shape = "smtps://user:password@host:465 or smtp://user:password@host:587";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    ctx.addIssue({ code: "custom", message: `must be a URL: ${shape}` });
    return;
  }
  // Only a well-known scheme is named back: anything else before a colon could be part of a secret.
  const known = ["http:", "https:", "mailto:", "ftp:", "submission:", "submissions:"].includes(url.protocol) ? `, not ${url.protocol}//` : "";
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") ctx.addIssue({ code: "custom", message: `must start with smtps:// (TLS) or smtp:// (STARTTLS)${known}: ${shape}` });
  else if (!url.hostname) ctx.addIssue({ code: "custom", message: `names no host: ${shape}` });
  else if (url.pathname && url.pathname !== "/" || url.search || url.hash) ctx.addIssue({ code: "custom", message: `must be only user, password, host and port: ${shape}` });
  else if (url.username && !url.password) ctx.addIssue({ code: "custom", message: `names a user without a password: ${shape}` });
});

const ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;
/** `a@example.org` or `Name <a@example.org>`. */
const isAddress = (s: string) => ADDRESS.test(s) || (/^[^<>,;"\r\n]*<([^<>]+)>$/.test(s) && ADDRESS.test(/<([^<>]+)>$/.exec(s)![1]!));
const EmailAddress = z.string().trim().refine(isAddress, "must be one email address, a@example.org or Name <a@example.org>");
const EmailList = z.string().transform((raw, ctx) => {
  const list = raw.split(",").map((a) => a.trim()).filter(Boolean);
  if (list.length === 0) ctx.addIssue({ code: "custom", message: "must name at least one address" });
  list.forEach((a, i) => { if (!isAddress(a)) ctx.addIssue({ code: "custom", message: `address ${i + 1} is not an email address (a@example.org or Name <a@example.org>)` }); });
  return list;
});

export const EnvSchema = z.object({
  BEACON_API_URL: optional(HttpUrl),
  /** The portal (e.g. https://projectbeacon.netlify.app) whose /api/v1 proxy the canary submits through; unset: the runner API only. */
  BEACON_PORTAL_URL: optional(HttpUrl),
  /** The hybrid router (e.g. https://project-beacon-production.up.railway.app): its /health becomes the regions probe's `router` check. */
  BEACON_ROUTER_URL: optional(HttpUrl),
  BEACON_HEALTH_URLS: optional(HealthUrls),
  BEACON_DATABASE_URL: optional(z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// connection string")),
  BEACON_REDIS_REST_URL: optional(HttpUrl),
  BEACON_REDIS_REST_TOKEN: optional(z.string()),
  SENTINEL_REDIS_REST_URL: optional(HttpUrl),
  SENTINEL_REDIS_REST_TOKEN: optional(z.string()),
  SENTINEL_KEY_PREFIX: optional(z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, "must be 1-64 of A-Z a-z 0-9 : _ . -")),
  SLACK_WEBHOOK_URL: optional(HttpUrl),
  /** A dead-man's switch (healthchecks.io's ping protocol) pinged after every scheduled tick; its path is its secret. */
  SENTINEL_HEARTBEAT_URL: optional(HttpUrl),
  /** PagerDuty Events API v2 integration key (32 characters) of the service to page. */
  PAGERDUTY_ROUTING_KEY: optional(z.string().trim().regex(/^[A-Za-z0-9]{32}$/, "must be the 32-character Integration Key of an Events API v2 integration")),
  /** Base URL of an Alertmanager (alerts go to <url>/api/v2/alerts); user info is sent as Basic authorization. */
  ALERTMANAGER_URL: optional(HttpUrl),
  /** A generic webhook receiving signed JSON (needs SENTINEL_WEBHOOK_SECRET). */
  SENTINEL_WEBHOOK_URL: optional(HttpUrl),
  /** The HMAC-SHA256 key the webhook's signature is made with. */
  SENTINEL_WEBHOOK_SECRET: optional(z.string().min(16, "must be at least 16 characters")),
  /** The SMTP server email goes through: smtps://user:password@host:465 or smtp://user:password@host:587 (STARTTLS). */
  SENTINEL_SMTP_URL: optional(SmtpUrl),
  /** The sender, `alerts@example.org` or `Beacon Sentinel <alerts@example.org>`. */
  SENTINEL_EMAIL_FROM: optional(EmailAddress),
  /** The recipients, comma-separated. */
  SENTINEL_EMAIL_TO: optional(EmailList),
  SENTINEL_ADMIN_TOKEN: optional(z.string().min(16, "must be at least 16 characters")),
  BEACON_ADMIN_TOKEN: optional(z.string()),
  NEON_WS_PROXY: optional(z.string().regex(/^[^\s/:]+:\d{1,5}$/, "must be host:port")),
  SENTINEL_STATUS_URL: optional(HttpUrl),
  /**
   * "true" (default): status, badge, metrics and page need no token. "false": they need a bearer token.
   * "summary": no token, and they show states, timings and SLOs only: no check messages, evidence,
   * errors or silence comments, which name internal hosts and the database (shared/status/public.ts).
   */
  SENTINEL_PUBLIC_STATUS: optional(z.enum(["true", "false", "summary"], { error: 'must be "true", "false" or "summary"' })),
  /** Read-only bearer token for the status routes when they are not public (the admin token works too). */
  SENTINEL_STATUS_TOKEN: optional(z.string().min(16, "must be at least 16 characters")),
  SENTINEL_CORS_ORIGIN: optional(Origins),
  /** The canary's signing key (base64 32-byte Ed25519 seed); unset: the canary reports itself disabled. */
  CANARY_SIGNING_KEY: optional(SigningKey),
  SENTINEL_SETTINGS: optional(JsonObject),
});
export type Env = z.infer<typeof EnvSchema>;

/** Values of the environment that must never appear in results, logs, pages or messages. */
export const SECRET_VARIABLES = [
  "BEACON_DATABASE_URL",
  "BEACON_REDIS_REST_TOKEN",
  "SENTINEL_REDIS_REST_TOKEN",
  "SLACK_WEBHOOK_URL",
  "SENTINEL_HEARTBEAT_URL",
  "PAGERDUTY_ROUTING_KEY",
  "SENTINEL_WEBHOOK_URL",
  "SENTINEL_WEBHOOK_SECRET",
  "SENTINEL_SMTP_URL",
  "SENTINEL_ADMIN_TOKEN",
  "SENTINEL_STATUS_TOKEN",
  "BEACON_ADMIN_TOKEN",
  "CANARY_SIGNING_KEY",
] as const;
