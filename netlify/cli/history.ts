import { parseArgs } from "node:util";
import { z } from "zod";
import { statusAsOf } from "../../shared/status/document.ts";
import { emptyStatus } from "../../shared/status/empty.ts";
import { probeInfos } from "../../shared/config/policy.ts";
import { historyProblems, historyReport, HistoryQuery, uptimeText, type HistoryReport, type ReportDay } from "../../shared/status/days-report.ts";
import type { State } from "../../shared/status/schema.ts";
import { redactDeep } from "../../shared/redact.ts";
import { createRuntime } from "../runtime.ts";
import { UsageError } from "./errors.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `beacon-sentinel history [--days N] [--stage S] [--check probe/check] [--json]`: the 90 days per
 * stage from the store's status document (1 GET), as a table or as GET /api/history's JSON. Exit 0;
 * 64 for bad usage, an unknown stage or check (named with the known ones, as the API's 400 does).
 */
export async function historyCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { days: { type: "string" }, stage: { type: "string" }, check: { type: "string" }, json: { type: "boolean", default: false } } });
  const parsed = z.object(HistoryQuery).safeParse({ days: values.days, stage: values.stage, check: values.check });
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; "));
  const rt = createRuntime(process.env, { requireBeacon: false });
  try {
    if (!rt.store) throw new UsageError("the history lives in the sentinel's store: set SENTINEL_REDIS_REST_URL");
    const now = rt.deps.now();
    const stored = await rt.store.readStatus();
    const doc = redactDeep(stored ? statusAsOf(stored, now, rt.config.settings.alerting.staleFactor) : emptyStatus(probeInfos(rt.config.settings), now), rt.redact);
    const problems = historyProblems(doc, parsed.data);
    if (problems.length) throw new UsageError(problems.join("; "));
    const report = historyReport(doc, parsed.data);
    say(values.json ? JSON.stringify(report, null, 2) : formatHistory(report, doc.history === undefined));
    return 0;
  } finally {
    await rt.close();
  }
}

/** One character per day in the text bar, as the page's colours go (README "90 days"). */
export const DAY_MARK: Record<State, string> = { pass: "=", warn: "~", fail: "X", error: "?", unknown: "." };
/** The text bar covers at most this many days, the most recent: it must fit a terminal line. */
export const BAR_DAYS = 30;

/** The report as a table: per stage (then per check) its uptime, incidents and the last days as a bar. */
export function formatHistory(report: HistoryReport, noHistory = false): string {
  const barDays = Math.min(BAR_DAYS, report.days);
  const lines = [`Uptime over ${report.days} day${report.days === 1 ? "" : "s"}, ${report.from} to ${report.to} (today so far)`];
  if (noHistory) lines.push("(the status document carries no history yet: every day shows no data)");
  const rows = [...report.stages.map((s) => ({ name: s.id, uptime: s.uptime, incidents: String(s.incidents), days: s.days })),
    ...report.checks.map((c) => ({ name: c.id, uptime: c.uptime, incidents: "", days: c.days }))];
  const width = Math.max(11, ...rows.map((r) => r.name.length));
  lines.push("", `${"".padEnd(width)}  ${"uptime".padStart(8)}  ${"incidents".padStart(9)}  last ${barDays} days (oldest left)`);
  for (const [i, r] of rows.entries()) {
    if (i === report.stages.length) lines.push("", "check:");
    lines.push(`${r.name.padEnd(width)}  ${uptimeText(r.uptime).padStart(8)}  ${r.incidents.padStart(9)}  ${bar(r.days.slice(-barDays))}`);
  }
  lines.push("", `${DAY_MARK.pass} passing  ${DAY_MARK.warn} degraded  ${DAY_MARK.fail} failing  ${DAY_MARK.error} blind  ${DAY_MARK.unknown} no data`);
  return lines.join("\n");
}

function bar(days: ReportDay[]): string {
  return days.map((d) => DAY_MARK[d.state]).join("");
}
