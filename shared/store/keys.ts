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
  };
}
export type Keys = ReturnType<typeof createKeys>;
