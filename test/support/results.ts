import type { Check, ProbeResult } from "../../shared/result.ts";

/** The named check of a result; throws, listing the names there are, when it is missing. */
export function checkOf(result: ProbeResult, name: string): Check {
  const found = result.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name} in ${result.checks.map((c) => c.name).join(", ")}`);
  return found;
}
