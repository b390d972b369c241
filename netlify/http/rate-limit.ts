import type { Redis } from "@upstash/redis";
import type { Keys } from "../../shared/store/keys.ts";
import { HttpError } from "./errors.ts";

/** At most `limit` requests per caller per fixed window of `windowSeconds`. */
export interface RateLimit {
  /** Routes sharing a scope share the allowance. */
  scope: string;
  limit: number;
  windowSeconds: number;
}

/** Manual probe runs and remediation: a handful a minute is plenty, and each costs real work. */
export const ADMIN_RATE_LIMIT: RateLimit = { scope: "admin", limit: 10, windowSeconds: 60 };

/**
 * A fixed-window counter in the store, in ONE round trip: SET NX EX starts the window (and its expiry)
 * if none is running, INCR counts this request, PTTL says when the window ends. Throws 429 with
 * Retry-After when the caller is over the limit.
 */
export async function consumeRateLimit(redis: Redis, keys: Keys, rule: RateLimit, caller: string): Promise<void> {
  const key = keys.rateLimit(rule.scope, caller.replace(/[^A-Za-z0-9:._-]/g, "_").slice(0, 64));
  const p = redis.pipeline();
  p.set(key, "0", { nx: true, ex: rule.windowSeconds });
  p.incr(key);
  p.pttl(key);
  const [, count, pttl] = (await p.exec()) as [unknown, number, number];
  if (Number(count) <= rule.limit) return;
  const retryAfter = Math.max(1, Math.ceil((Number(pttl) > 0 ? Number(pttl) : rule.windowSeconds * 1000) / 1000));
  throw new HttpError(429, "rate_limited", `too many requests: at most ${rule.limit} per ${rule.windowSeconds} s; retry in ${retryAfter} s`,
    { retry_after: retryAfter }, { "retry-after": String(retryAfter) });
}
