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
 * Wrong tokens, per caller: after 10 in 10 minutes the caller gets 429 for every token-guarded route,
 * right token or not, until the window ends. The routes' own limits count only authorised requests
 * (a rejected token costs no allowance), so without this a guesser would be limited by nothing.
 */
export const AUTH_FAILURE_LIMIT: RateLimit = { scope: "auth-failures", limit: 10, windowSeconds: 600 };

/** One round trip (GET, PTTL): throws 429 while the caller has used up its wrong-token allowance. */
export async function refuseIfLockedOut(redis: Redis, keys: Keys, rule: RateLimit, caller: string): Promise<void> {
  const key = limitKey(keys, rule, caller);
  const p = redis.pipeline();
  p.get(key);
  p.pttl(key);
  const [count, pttl] = (await p.exec()) as [unknown, number];
  if (Number(count ?? 0) < rule.limit) return;
  throw tooMany(rule, Number(pttl), "too many wrong tokens");
}

/** One round trip: counts a wrong token against the caller (the window starts with the first). */
export async function recordAuthFailure(redis: Redis, keys: Keys, rule: RateLimit, caller: string): Promise<void> {
  const key = limitKey(keys, rule, caller);
  const p = redis.pipeline();
  p.set(key, "0", { nx: true, ex: rule.windowSeconds });
  p.incr(key);
  await p.exec();
}

function limitKey(keys: Keys, rule: RateLimit, caller: string): string {
  return keys.rateLimit(rule.scope, caller.replace(/[^A-Za-z0-9:._-]/g, "_").slice(0, 64));
}

function tooMany(rule: RateLimit, pttlMs: number, what: string): HttpError {
  const retryAfter = Math.max(1, Math.ceil((pttlMs > 0 ? pttlMs : rule.windowSeconds * 1000) / 1000));
  return new HttpError(429, "rate_limited", `${what}: at most ${rule.limit} per ${rule.windowSeconds} s; retry in ${retryAfter} s`,
    { retry_after: retryAfter }, { "retry-after": String(retryAfter) });
}

/**
 * A fixed-window counter in the store, in ONE round trip: SET NX EX starts the window (and its expiry)
 * if none is running, INCR counts this request, PTTL says when the window ends. Throws 429 with
 * Retry-After when the caller is over the limit.
 */
export async function consumeRateLimit(redis: Redis, keys: Keys, rule: RateLimit, caller: string): Promise<void> {
  const key = limitKey(keys, rule, caller);
  const p = redis.pipeline();
  p.set(key, "0", { nx: true, ex: rule.windowSeconds });
  p.incr(key);
  p.pttl(key);
  const [, count, pttl] = (await p.exec()) as [unknown, number, number];
  if (Number(count) <= rule.limit) return;
  throw tooMany(rule, Number(pttl), "too many requests");
}
