import { parseArgs } from "node:util";
import { PROBES, PROBE_IDS, findProbe } from "../../shared/probes/registry.ts";
import { runProbe, StoreWriteError } from "../../shared/runner.ts";
import { exitCodeFor, worstStatus, type ProbeResult } from "../../shared/result.ts";
import { createRuntime } from "../runtime.ts";
import { formatResults } from "./format.ts";
import { UsageError } from "./errors.ts";

/** `sentinel run <probe-id|all> [--json] [--dry-run]` */
export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: { json: { type: "boolean", default: false }, "dry-run": { type: "boolean", default: false } },
  });
  const target = positionals[0];
  if (!target || positionals.length > 1) throw new UsageError(`expected one probe id or "all" (known: ${PROBE_IDS.join(", ")})`);
  const probes = target === "all" ? [...PROBES] : [findProbe(target)].filter((p) => p !== undefined);
  if (probes.length === 0) throw new UsageError(`unknown probe "${target}" (known: ${PROBE_IDS.join(", ")}, all)`);

  const dryRun = values["dry-run"];
  const rt = createRuntime(process.env, { requireStore: !dryRun });
  try {
    const results: ProbeResult[] = [];
    const storeErrors: string[] = [];
    for (const probe of probes) {
      try {
        results.push(await runProbe(probe, {
          // A dry run writes nothing, claims included (the canary then says it cannot run).
          deps: dryRun ? { ...rt.deps, claims: undefined } : rt.deps, settings: rt.config.settings, targets: rt.targets, redact: rt.redact,
          store: dryRun ? undefined : rt.store,
        }));
      } catch (error) {
        if (!(error instanceof StoreWriteError)) throw error;
        results.push(error.result);
        storeErrors.push(`${probe.id}: ${rt.redact(error.message)}`);
      }
    }
    process.stdout.write(`${values.json ? JSON.stringify(results.length === 1 ? results[0] : results, null, 2) : formatResults(results)}\n`);
    if (!values.json && dryRun) process.stdout.write("(dry run: nothing stored)\n");
    for (const line of storeErrors) process.stderr.write(`sentinel run: ${line}\n`);
    // A result that could not be stored is as good as unmeasured for everything downstream.
    return storeErrors.length ? 2 : exitCodeFor(worstStatus(results.map((r) => r.status)));
  } finally {
    await rt.close();
  }
}
