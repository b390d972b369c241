import { parseArgs } from "node:util";
import { remediate, type RemediationReport } from "../../shared/remediation/run.ts";
import { redactDeep } from "../../shared/redact.ts";
import { createRuntime } from "../runtime.ts";
import { remediationDeps } from "../remediation.ts";
import { UsageError } from "./errors.ts";
import type { Logger } from "../../shared/log.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `sentinel republish-stuck [--execute] [--job ID]... [--limit N] [--json]`: lists stuck jobs with their
 * cause and whether republishing can help (dry run), or republishes them, paced for Beacon's admin rate
 * limit, and audits it. Exit 0 when nothing went wrong, 1 when refused or a job failed, 64 bad usage.
 */
export async function republishStuckCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      execute: { type: "boolean", default: false }, json: { type: "boolean", default: false },
      job: { type: "string", multiple: true, default: [] }, limit: { type: "string" },
    },
  });
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError(`--limit takes a positive whole number, not "${values.limit}"`);
  const bad = values.job.find((j) => !/^[\x21-\x7e]{1,255}$/.test(j));
  if (bad !== undefined) throw new UsageError(`--job takes a jobspec id (printable, no spaces), not "${bad.slice(0, 40)}"`);
  const rt = createRuntime(process.env);
  try {
    // Progress goes to stderr, so that stdout stays the report (parseable with --json).
    const report = redactDeep(await remediate(remediationDeps({ ...rt, log: stderrLogger(rt.redact) }), {
      execute: values.execute, jobIds: values.job, caller: `cli:${process.env.USER ?? process.env.LOGNAME ?? "unknown"}`, limit,
    }), rt.redact);
    say(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
    const failed = report.results.some((r) => r.outcome !== "republished" && r.outcome !== "skipped");
    return !report.dryRun && (report.plan.blocked || failed) ? 1 : 0;
  } finally {
    await rt.close();
  }
}

function stderrLogger(redact: (s: string) => string): Logger {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void process.stderr.write(`${redact(JSON.stringify({ level, message, ...fields }))}\n`);
  return { info: write("info"), warn: write("warn"), error: write("error") };
}

export function formatReport(r: RemediationReport): string {
  const lines: string[] = [];
  if (r.plan.publisher) lines.push(`outbox: ${r.plan.publisher.unpublished} unpublished; ${r.plan.publisher.lag}`);
  if (r.plan.blocked) {
    lines.push(`REFUSED (${r.plan.blocked.code}): ${r.plan.blocked.message}`);
    for (const e of r.plan.blocked.evidence) lines.push(`  - ${e}`);
  }
  lines.push(r.plan.items.length ? "stuck jobs:" : "no stuck jobs found");
  for (const i of r.plan.items) {
    lines.push(`  ${i.action === "republish" ? "republish" : "refuse   "} ${i.jobId}  ${i.detail}`);
    if (i.reason) lines.push(`            because ${i.reason}`);
  }
  if (r.results.length) lines.push("results:");
  for (const x of r.results) lines.push(`  ${x.outcome.padEnd(13)} ${x.jobId}  ${x.detail}`);
  for (const id of r.remaining) lines.push(`  remaining     ${id}`);
  lines.push("", r.summary);
  if (r.dryRun && r.plan.items.some((i) => i.action === "republish")) lines.push("run again with --execute to republish (paced: one request per 10 s)");
  if (r.audit) lines.push(`audit: recorded in the store; Slack ${r.audit.slack}`);
  return lines.join("\n");
}
