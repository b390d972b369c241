import { z } from "zod";
import { publicKeyFromPrivateKey } from "../beacon/signing.ts";
import { findJsonSyntaxError } from "./json-syntax.ts";
import { HttpUrl, optional } from "../env-values.ts";
import { CHANNELS } from "../channels/catalog.ts";

/**
 * The environment variables: the public contract operators and scripts rely on. This is the only
 * module that interprets them; callers pass the environment in (process.env, Netlify.env) so nothing
 * else reaches for globals.
 */


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
  /** A dead-man's switch (healthchecks.io's ping protocol) pinged after every scheduled tick; its path is its secret. */
  SENTINEL_HEARTBEAT_URL: optional(HttpUrl),
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
  /**
   * "tick" (default): one scheduled function runs the due probes and evaluates. "per-probe": the owner's
   * design card, each probe in its own scheduled function (functions/probe-<id>.ts, scheduled by the
   * block netlify.toml keeps commented out) and the tick only evaluates (README "The topology in credits").
   */
  SENTINEL_TOPOLOGY: optional(z.enum(["tick", "per-probe"], { error: 'must be "tick" or "per-probe"' })),
  // Each channel's own variables, as its definition declares them (shared/channels/catalog.ts).
  ...Object.fromEntries(CHANNELS.flatMap((c) => Object.entries(c.env).map(([name, v]) => [name, v.schema]))),
});
export type Env = z.infer<typeof EnvSchema>;

/** Values of the environment that must never appear in results, logs, pages or messages. */
export const SECRET_VARIABLES = [
  "BEACON_DATABASE_URL",
  "BEACON_REDIS_REST_TOKEN",
  "SENTINEL_REDIS_REST_TOKEN",
  "SENTINEL_HEARTBEAT_URL",
  "SENTINEL_ADMIN_TOKEN",
  "SENTINEL_STATUS_TOKEN",
  "BEACON_ADMIN_TOKEN",
  "CANARY_SIGNING_KEY",
  ...CHANNELS.flatMap((c) => Object.entries(c.env).filter(([, v]) => v.secret === "value" || v.secret === "url").map(([name]) => name)),
];

/** Secret variables that are URLs, secret as a whole and in their parts. */
export const WHOLE_URL_SECRETS = new Set<string>([
  "BEACON_DATABASE_URL", "SENTINEL_HEARTBEAT_URL",
  ...CHANNELS.flatMap((c) => Object.entries(c.env).filter(([, v]) => v.secret === "url").map(([name]) => name)),
]);

/** URL variables that are not secret, whose user info and query values are. */
export const CREDENTIAL_URLS: string[] = CHANNELS.flatMap((c) => Object.entries(c.env).filter(([, v]) => v.secret === "credentials").map(([name]) => name));
