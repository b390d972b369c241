/**
 * Every Redis key the sentinel writes, built in one place under one configurable prefix
 * (SENTINEL_KEY_PREFIX, default "sentinel:"), so that a deployment can share a Redis safely.
 */
export function createKeys(prefix: string) {
  return {
    prefix,
    /** STRING: the latest result document of a probe. */
    latest: (probe: string) => `${prefix}probe:${probe}:latest`,
    /** LIST (newest first): compact history entries of a probe, capped. */
    history: (probe: string) => `${prefix}probe:${probe}:history`,
    /** STRING: what a stateful probe keeps between runs (previous counters, dead-letter head...). */
    state: (probe: string) => `${prefix}probe:${probe}:state`,
    /** STREAM: every result, for the fan-in to consume with a cursor. */
    results: `${prefix}results`,
    /** STRING: id of the last stream entry the fan-in consumed. */
    cursor: `${prefix}fanin:cursor`,
    /** STRING (NX, PX): held by the one fan-in evaluation running now. */
    lock: `${prefix}fanin:lock`,
    /** STRING: alert state (records, pending notifications, decision log). */
    alerts: `${prefix}fanin:alerts`,
    /** STRING: the latest SLO statuses, for the status API. */
    slos: `${prefix}fanin:slos`,
    /** HASH: silences and maintenance windows, by id (one field each, so concurrent edits never clobber). */
    silences: `${prefix}silences`,
    /** LIST (newest first): audit entries of remediation runs (who republished which jobs, and how it went), capped. */
    audit: `${prefix}remediation:audit`,
    /** STRING (INCR, EX): requests of one caller to one group of HTTP routes in the current window. */
    rateLimit: (scope: string, caller: string) => `${prefix}ratelimit:${scope}:${caller}`,
    /** STRING (NX, PX): a named claim held by one invocation: the canary's in-flight slot, a running remediation. */
    claim: (name: string) => `${prefix}claim:${name}`,
    /** HASH: good/total event counters of one SLI source at minute, hour and day resolution. */
    counter: (source: string) => `${prefix}slo:events:${source}`,
  };
}
export type Keys = ReturnType<typeof createKeys>;
