/**
 * What the canary's checks say that others read: the status page shows the canary in flight from the
 * `canary` check's evidence. Kept apart from the probe's code so that the status functions, which
 * read it, do not ship the probe.
 */

/**
 * The `canary` check names the canary in flight in its evidence, "<id> submitted <ISO time>", so the
 * status page can show its age live, between runs, instead of the age it had at the last run.
 */
export function inFlightEvidence(id: string, submittedAt: string): string {
  return `${id} submitted ${submittedAt}`;
}

export function inFlightOf(evidence: readonly string[]): { id: string; submittedAt: string } | undefined {
  for (const e of evidence) {
    const m = /^(\S+) submitted (\d{4}-\d\d-\d\dT[\d:.]+Z)$/.exec(e);
    if (m && !Number.isNaN(Date.parse(m[2]!))) return { id: m[1]!, submittedAt: m[2]! };
  }
  return undefined;
}
