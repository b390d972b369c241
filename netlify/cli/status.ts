import { parseArgs } from "node:util";
import { statusAsOf, WORD } from "../../shared/status/document.ts";
import { budgetText, percent, runsText } from "../../shared/status/format.ts";
import { emptyStatus } from "../../shared/status/empty.ts";
import { probeInfos } from "../../shared/config/policy.ts";
import type { State, StatusDocument } from "../../shared/status/schema.ts";
import { redactDeep } from "../../shared/redact.ts";
import { createRuntime } from "../runtime.ts";
import { UsageError } from "./errors.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);

/** `sentinel status [--json]`: exit 0 passing or degraded, 1 failing, 2 blind or unknown, 64 bad usage. */
export async function statusCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: "boolean", default: false } } });
  const rt = createRuntime(process.env);
  try {
    if (!rt.store) throw new UsageError("the status lives in the sentinel's store: set SENTINEL_REDIS_REST_URL");
    const now = rt.deps.now();
    const stored = await rt.store.readStatus();
    const doc = redactDeep(stored ? statusAsOf(stored, now, rt.config.settings.alerting.staleFactor) : emptyStatus(probeInfos(rt.config.settings), now), rt.redact);
    say(values.json ? JSON.stringify(doc, null, 2) : formatStatus(doc));
    return EXIT[doc.overall.state];
  } finally {
    await rt.close();
  }
}

const EXIT: Record<State, number> = { pass: 0, warn: 0, fail: 1, error: 2, unknown: 2 };
const MARK: Record<State, string> = { pass: "ok  ", warn: "WARN", fail: "FAIL", error: "BLND", unknown: "??  " };

/** A terminal summary: the pipeline, probes with what is wrong, SLO budgets, firing alerts. */
export function formatStatus(doc: StatusDocument): string {
  const lines = [`Beacon pipeline: ${WORD[doc.overall.state].toUpperCase()}  ${doc.overall.message}`, `generated ${doc.generatedAt}`, "", "pipeline:"];
  for (const s of doc.stages) lines.push(`  ${MARK[s.state]} ${s.id.padEnd(11)} ${s.message}`);
  lines.push("", "probes:");
  for (const p of doc.probes) {
    const run = p.latest ? `${p.ageSeconds} s ago, ${p.latest.durationMs} ms` : "no result yet";
    lines.push(`  ${MARK[p.state]} ${p.id.padEnd(10)} ${run}${p.stale ? " (STALE)" : ""}; ${runsText(p.timeline)}`);
    for (const c of p.latest?.checks ?? []) {
      if (c.status === "pass") continue;
      lines.push(`         ${MARK[c.status]} ${c.name}: ${c.message}`);
      for (const e of c.evidence.slice(0, 5)) lines.push(`              - ${e}`);
    }
  }
  lines.push("", `SLOs (evaluated ${doc.slos.evaluatedAt ?? "never"}):`);
  for (const s of doc.slos.items) {
    lines.push(`  ${s.id.padEnd(18)} target ${percent(s.target)}  budget ${budgetText(s)}  ${s.source ?? "no events"} (${s.events})${s.severity ? `  BURNING (${s.severity})` : ""}`);
  }
  lines.push("", doc.alerts.firing.length ? "firing:" : "nothing firing");
  for (const a of doc.alerts.firing) lines.push(`  ${a.severity.padEnd(7)} ${a.key}  since ${a.since ?? "?"}${a.heldBy ? ` (held by ${a.heldBy})` : ""}  ${a.message}`);
  for (const s of doc.alerts.silences) lines.push(`  silence ${s.id} ${s.active ? "active" : "upcoming"} until ${s.endsAt}: ${JSON.stringify(s.matcher)}`);
  return lines.join("\n");
}
