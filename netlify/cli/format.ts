import type { ProbeResult, CheckStatus } from "../../shared/result.ts";

const MARK: Record<CheckStatus, string> = { pass: "ok  ", warn: "WARN", fail: "FAIL", error: "ERR " };

/** A readable summary of result documents for a terminal. */
export function formatResults(results: ProbeResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.probe.padEnd(10)} ${MARK[r.status]}  ${r.durationMs} ms  ${r.startedAt}`);
    if (r.error) lines.push(`  ! ${r.error}`);
    const width = Math.max(0, ...r.checks.map((c) => c.name.length));
    for (const c of r.checks) {
      lines.push(`  ${MARK[c.status]} ${c.name.padEnd(width)}  ${c.message}`);
      if (c.status === "pass") continue;
      for (const item of c.evidence) lines.push(`         - ${item}`);
      if (c.evidenceTotal > c.evidence.length) lines.push(`         … and ${c.evidenceTotal - c.evidence.length} more`);
    }
  }
  return lines.join("\n");
}
