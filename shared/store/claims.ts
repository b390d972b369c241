import type { Redis } from "@upstash/redis";
import type { Keys } from "./keys.ts";

/**
 * Named, expiring claims in the sentinel's store: what a probe uses to act once across concurrent
 * invocations. The runner loads a probe's state before it runs and writes it afterwards, so two
 * invocations that overlap both see the same state; only an atomic SET NX decides between them.
 */
export interface Claims {
  /** SET NX PX: true when this call took `name` for `holder`; false while anyone holds it. */
  claim(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /**
   * Compare-and-delete: true when this call released `holder`'s claim, false when `holder` no longer
   * held it (another invocation released it first, or it expired). Exactly one caller gets true.
   */
  release(name: string, holder: string): Promise<boolean>;
}

/** Lua: delete KEYS[1] only if it still holds ARGV[1]. Also used inside the fan-in's final MULTI. */
export const RELEASE_IF_HELD = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

export function createClaims(redis: Redis, keys: Keys): Claims {
  return {
    async claim(name, holder, ttlMs) {
      const reply = await redis.set(keys.claim(name), holder, { nx: true, px: Math.max(1, Math.round(ttlMs)) });
      return reply === "OK";
    },
    async release(name, holder) {
      const reply = await redis.eval(RELEASE_IF_HELD, [keys.claim(name)], [holder]);
      return Number(reply) === 1;
    },
  };
}
