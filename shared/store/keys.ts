/**
 * Every Redis key the sentinel writes, built in one place under one configurable prefix
 * (SENTINEL_KEY_PREFIX, default "sentinel:"), so that a deployment can share a Redis safely.
 */
export function createKeys(prefix: string) {
  return {
    prefix,
    /** STRING (gzipped JSON): the tick's hot memory: probe states, latest results, the filling timeline slot, today, SLO counters, alert state. */
    state: `${prefix}tick:state`,
    /** STRING (gzipped JSON): the status document every status route serves, rebuilt by each tick. */
    status: `${prefix}status`,
    /** STRING (gzipped JSON): the closed 15-minute timeline slots of the last 24 hours (shared/tick/past.ts), rewritten every 15 minutes. */
    pastSlots: `${prefix}past:slots`,
    /** STRING (gzipped JSON): the closed days of the 90-day history (shared/tick/past.ts), rewritten once a day. */
    pastDays: `${prefix}past:days`,
    /** STRING (gzipped JSON): what each channel was told about each alert (shared/alerting/ledger.ts), apart from the state. */
    ledger: `${prefix}tick:ledger`,
    /** STRING (NX, PX): held by the one tick running now; its value is that tick's fencing token. */
    lock: `${prefix}tick:lock`,
    /** STRING (INCR): the write sequence, counted each time a tick takes the lock; each state records the number it was written under. */
    seq: `${prefix}tick:seq`,
    /** HASH: silences and maintenance windows, by id (one field each, so concurrent edits never clobber). */
    silences: `${prefix}silences`,
    /** LIST (newest first): audit entries of remediation runs (who republished which jobs, and how it went), capped. */
    audit: `${prefix}remediation:audit`,
    /** STRING (INCR, EX): requests of one caller to one group of HTTP routes in the current window. */
    rateLimit: (scope: string, caller: string) => `${prefix}ratelimit:${scope}:${caller}`,
    /** STRING (NX, PX): a named claim held by one invocation: the canary's in-flight slot, a running remediation. */
    claim: (name: string) => `${prefix}claim:${name}`,
  };
}
export type Keys = ReturnType<typeof createKeys>;
