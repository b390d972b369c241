import { createHash, timingSafeEqual } from "node:crypto";
import type { Config } from "../../shared/config/index.ts";
import { HttpError } from "./errors.ts";

/** Who is calling: nobody in particular (public status), or the holder of a configured token. */
export type Caller = { kind: "anonymous"; id: string } | { kind: "token"; role: "admin" | "status"; id: string };

/** Status routes are public or need the status (or admin) token, by configuration; admin routes need the admin token. */
export type Access = "status" | "admin";

const sha256 = (value: string) => createHash("sha256").update(value, "utf8").digest();

/**
 * Constant-time comparison: both sides are hashed first, so the comparison is over equal-length
 * digests and takes the same time whatever the given token's length or content.
 */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

/** A short, stable, non-reversible name for a token, for audit entries: never the token itself. */
export function fingerprint(token: string): string {
  return sha256(`beacon-sentinel:${token}`).toString("hex").slice(0, 12);
}

const CHALLENGE = { "www-authenticate": 'Bearer realm="beacon-sentinel"' };

/** The bearer token of the request; undefined without an Authorization header; 401 when it is not a bearer token. */
function bearer(req: Request): string | undefined {
  const header = req.headers.get("authorization");
  if (header === null) return undefined;
  const match = /^Bearer ([^\s]+)$/i.exec(header.trim());
  if (!match) throw new HttpError(401, "invalid_auth_format", "use the header Authorization: Bearer <token>", {}, CHALLENGE);
  return match[1];
}

export function authorize(req: Request, config: Config, access: Access): Caller {
  if (access === "status" && config.publicStatus) return { kind: "anonymous", id: "anonymous" };
  const accepted: { role: "admin" | "status"; token: string }[] = [];
  if (config.adminToken) accepted.push({ role: "admin", token: config.adminToken });
  if (access === "status" && config.statusToken) accepted.push({ role: "status", token: config.statusToken });
  if (accepted.length === 0) {
    throw new HttpError(503, "admin_auth_not_configured", "this route is disabled until SENTINEL_ADMIN_TOKEN is configured");
  }
  const given = bearer(req);
  if (given === undefined) throw new HttpError(401, "unauthorized", "this route needs Authorization: Bearer <token>", {}, CHALLENGE);
  // Every candidate is compared, so the time taken does not tell which one (if any) matched.
  const matched = accepted.filter((a) => tokenMatches(given, a.token));
  const found = matched[0];
  if (!found) throw new HttpError(403, "invalid_token", "the token is not valid for this route");
  return { kind: "token", role: found.role, id: `api:${fingerprint(given)}` };
}
