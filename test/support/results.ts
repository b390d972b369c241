import type { Check, ProbeResult } from "../../shared/result.ts";

/** The named check of a result; throws, listing the names there are, when it is missing. */
export function checkOf(result: ProbeResult, name: string): Check {
  const found = result.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name} in ${result.checks.map((c) => c.name).join(", ")}`);
  return found;
}

/**
 * What the tick keeps of a stateful probe between runs, for tests that run a probe directly: the
 * last state the probe returned (a run that returns none keeps the previous, as the tick does).
 */
export interface StateCarrier {
  state?: unknown;
}
