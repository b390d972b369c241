import { parseArgs } from "node:util";
import { z } from "zod";
import { createRuntime } from "../runtime.ts";
import { tick } from "../tick.ts";
import { createSilenceStore } from "../../shared/alerting/silence-store.ts";
import { createKeys } from "../../shared/store/keys.ts";
import { redactDeep } from "../../shared/redact.ts";
import type { TickReport } from "../../shared/tick/run.ts";
import { UsageError } from "./errors.ts";
import { PROBE_IDS } from "../../shared/probes/catalog.ts";
import { latestChecks } from "../../shared/status/document.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `sentinel evaluate [--json] [--notify]`: evaluates SLOs and alerts on what is stored, running no
 * probe. Without --notify, a read-only preview that stores and sends nothing.
 */
export async function evaluateCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: "boolean", default: false }, notify: { type: "boolean", default: false } } });
  const rt = createRuntime(process.env);
  try {
    const { status: _status, ...report } = redactDeep(await tick(rt, { write: values.notify, probes: [], lockWaitMs: values.notify ? 25_000 : 0 }), rt.redact);
    if (values.notify) rt.log.info("evaluation stored", { firing: report.firing.length, pending: report.pending, delivered: report.delivered });
    say(values.json ? JSON.stringify(report, null, 2) : formatReport(report, values.notify));
    return report.firing.length > 0 ? 1 : 0;
  } finally {
    await rt.close();
  }
}

function formatReport(r: Omit<TickReport, "status">, notify: boolean): string {
  if (r.skipped) return `evaluation skipped: ${r.skipped}`;
  const pct = (x: number | null) => (x === null ? "   n/a" : `${(x * 100).toFixed(2).padStart(6)}%`);
  const lines = ["SLO                 target   period-err  budget-left  source (events)"];
  for (const s of r.slos) {
    lines.push(`${s.id.padEnd(18)} ${pct(s.target)}   ${pct(s.period.errorRatio)}   ${pct(s.budgetRemaining)}     ${s.source ?? "no events"} (${s.events})${s.severity ? `  BURNING: ${s.severity}` : ""}`);
  }
  lines.push("", r.firing.length ? "firing:" : "nothing firing");
  for (const a of r.firing) lines.push(`  ${a.key}  since ${a.since}${a.heldBy ? `  (held by ${a.heldBy})` : ""}  ${a.snapshot.message}`);
  const verb = notify ? "decided" : "would decide";
  lines.push("", `${verb} ${r.notifications.length} notification(s)${notify ? `; ${r.unsent ? `no channel configured, ${r.unsent} logged` : `delivered ${r.delivered}, pending ${r.pending}`}` : " (preview: nothing sent, nothing stored)"}`);
  for (const n of r.notifications) lines.push(`  ${n.kind.padEnd(8)} ${n.alertKey}: ${n.message}`);
  return lines.join("\n");
}

/**
 * `sentinel silence add --probe P [--check C] | --slo S  (--for 2h | --until ISO) [--starts ISO] [--comment T] [--by NAME]`,
 * `sentinel silence list`, `sentinel silence remove <id>`.
 */
export async function silenceCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: {
      probe: { type: "string" }, check: { type: "string" }, slo: { type: "string" },
      for: { type: "string" }, until: { type: "string" }, starts: { type: "string" },
      comment: { type: "string", default: "" }, by: { type: "string" }, json: { type: "boolean", default: false },
    },
  });
  const rt = createRuntime(process.env);
  if (!rt.storeRedis || !rt.config.store) throw new UsageError("silences live in the sentinel's store: set SENTINEL_REDIS_REST_URL");
  // Unknown names are refused; a check is known by the probe's latest result in the stored status.
  const known = { probes: PROBE_IDS, slos: rt.config.settings.slos.map((o) => o.id), checksOf: async (probe: string) => latestChecks(await rt.store?.readStatus(), probe) };
  const store = createSilenceStore(rt.storeRedis, createKeys(rt.config.store.keyPrefix), rt.deps.now, known);
  const [action, id] = positionals;
  try {
    if (action === "list") {
      const list = await store.list();
      if (values.json) say(JSON.stringify(list, null, 2));
      else if (list.length === 0) say("no silences");
      else for (const s of list) say(`${s.id}  ${s.startsAt} .. ${s.endsAt}  ${JSON.stringify(s.matcher)}  by ${s.createdBy}  ${s.comment}`);
      return 0;
    }
    if (action === "remove" && id) {
      if (!(await store.remove(id))) throw new UsageError(`no silence with id ${id}`);
      say(`removed silence ${id}`);
      return 0;
    }
    if (action === "add") {
      try {
        const silence = await store.add({
          probe: values.probe, check: values.check, slo: values.slo, startsAt: values.starts, endsAt: values.until,
          durationMinutes: values.for ? minutes(values.for) : undefined, comment: values.comment,
          createdBy: values.by ?? process.env.USER ?? "cli",
        });
        say(values.json ? JSON.stringify(silence, null, 2) : `silence ${silence.id} until ${silence.endsAt}`);
        return 0;
      } catch (error) {
        if (error instanceof z.ZodError) throw new UsageError(error.issues.map((i) => `${i.path.join(".") || "silence"}: ${i.message}`).join("; "));
        throw error;
      }
    }
    throw new UsageError("expected: silence add|list|remove <id>");
  } finally {
    await rt.close();
  }
}

/** "90m", "2h", "1d" or a plain number of minutes. */
function minutes(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)([mhd]?)$/.exec(raw.trim());
  if (!m) throw new UsageError(`--for takes a duration such as 30m, 2h or 1d, not "${raw}"`);
  return Number(m[1]) * ({ "": 1, m: 1, h: 60, d: 1440 } as Record<string, number>)[m[2] ?? ""]!;
}
