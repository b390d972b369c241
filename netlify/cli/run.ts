import { parseArgs } from "node:util";
import { PROBES, PROBE_IDS, findProbe } from "../../shared/probes/catalog.ts";
import { runProbe } from "../../shared/runner.ts";
import { exitCodeFor, worstStatus, type ProbeResult } from "../../shared/result.ts";
import { createRuntime } from "../runtime.ts";
import { tick } from "../tick.ts";
import { formatResults } from "./format.ts";
import { junitReport } from "./junit.ts";
import { UsageError } from "./errors.ts";

const REPORTERS = ["text", "json", "junit"] as const;

/** `sentinel run <probe-id|all> [--json] [--reporter text|json|junit] [--dry-run]` */
export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: { json: { type: "boolean", default: false }, reporter: { type: "string" }, "dry-run": { type: "boolean", default: false } },
  });
  const reporter = values.reporter ?? (values.json ? "json" : "text");
  if (!(REPORTERS as readonly string[]).includes(reporter)) throw new UsageError(`unknown reporter "${reporter}" (known: ${REPORTERS.join(", ")})`);
  if (values.json && reporter !== "json") throw new UsageError(`--json and --reporter ${reporter} ask for two outputs: choose one`);
  const target = positionals[0];
  if (!target || positionals.length > 1) throw new UsageError(`expected one probe id or "all" (known: ${PROBE_IDS.join(", ")})`);
  const probes = target === "all" ? [...PROBES] : [findProbe(target)].filter((p) => p !== undefined);
  if (probes.length === 0) throw new UsageError(`unknown probe "${target}" (known: ${PROBE_IDS.join(", ")}, all)`);

  const dryRun = values["dry-run"];
  // A dry run writes nothing, so `all` skips what needs the store, saying why (the CI gate: README). A
  // probe asked for by name still runs and says it cannot.
  const skipped = dryRun && target === "all" ? probes.filter((p) => p.needsStore).map((p) => ({ probe: p.id, reason: p.needsStore! })) : [];
  const run = probes.filter((p) => !skipped.some((s) => s.probe === p.id));
  const rt = createRuntime(process.env, { requireStore: !dryRun });
  try {
    let results: ProbeResult[];
    const storeErrors: string[] = [];
    if (dryRun) {
      // A dry run writes nothing, claims included (the canary then says it cannot run).
      const deps = { ...rt.deps, claims: undefined };
      results = await Promise.all(run.map((probe) => runProbe(probe, { deps, settings: rt.config.settings, targets: rt.targets, redact: rt.redact, manual: true })));
    } else {
      // Recorded and judged like a scheduled run: through the tick, waiting for one in progress.
      const report = await tick(rt, { write: true, probes: run.map((p) => p.id), lockWaitMs: 25_000 });
      results = report.results;
      if (report.skipped) storeErrors.push(rt.redact(report.skipped));
      else if (report.lost) storeErrors.push(`${report.lost} result(s) not stored (written to the log)`);
    }
    if (reporter === "junit") process.stdout.write(junitReport(results, { skipped }));
    else process.stdout.write(`${reporter === "json" ? JSON.stringify(results.length === 1 ? results[0] : results, null, 2) : formatResults(results)}\n`);
    const skips = skipped.map((s) => `skipped ${s.probe}: ${s.reason}`);
    if (reporter === "text") for (const line of skips) process.stdout.write(`${line}\n`);
    else for (const line of skips) process.stderr.write(`beacon-sentinel run: ${line}\n`);
    if (reporter === "text" && dryRun) process.stdout.write("(dry run: nothing stored)\n");
    for (const line of storeErrors) process.stderr.write(`beacon-sentinel run: ${line}\n`);
    // A result that could not be stored is as good as unmeasured for everything downstream.
    return storeErrors.length ? 2 : exitCodeFor(worstStatus(results.map((r) => r.status)));
  } finally {
    await rt.close();
  }
}
