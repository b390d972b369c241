import { parseArgs } from "node:util";
import { writeFile } from "node:fs/promises";
import { loadSettings } from "../../shared/config/index.ts";
import { prometheusRulesYaml, STALLED_AFTER_MINUTES } from "../../shared/export/prometheus-rules.ts";
import { grafanaDashboard } from "../../shared/export/grafana-dashboard.ts";
import { UsageError } from "./errors.ts";

const WHAT: Record<string, (env: Record<string, string | undefined>, stalledAfterMinutes: number) => string> = {
  "prometheus-rules": (env, stalledAfterMinutes) => prometheusRulesYaml(loadSettings(env).slos, { stalledAfterMinutes }),
  "grafana-dashboard": () => `${JSON.stringify(grafanaDashboard(), null, 2)}\n`,
};

/**
 * `sentinel export prometheus-rules [--stalled-after MINUTES] | grafana-dashboard [--output FILE]`: from
 * SENTINEL_SETTINGS alone.
 */
export async function exportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { output: { type: "string", short: "o" }, "stalled-after": { type: "string" } } });
  const [what, ...extra] = positionals;
  const render = what === undefined ? undefined : WHAT[what];
  if (!render || extra.length > 0) throw new UsageError(`expected one of: ${Object.keys(WHAT).join(", ")}${what && !render ? ` (not "${what}")` : ""}`);
  const stalledAfter = values["stalled-after"];
  if (stalledAfter !== undefined && what !== "prometheus-rules") throw new UsageError("--stalled-after applies to prometheus-rules only");
  const stalledAfterMinutes = stalledAfter === undefined ? STALLED_AFTER_MINUTES : Number(stalledAfter);
  if (!/^\d+(\.\d+)?$/.test(stalledAfter ?? "1") || !(stalledAfterMinutes > 0)) {
    throw new UsageError(`--stalled-after must be a positive number of minutes (default ${STALLED_AFTER_MINUTES}), got "${stalledAfter}"`);
  }
  const text = render(process.env, stalledAfterMinutes);
  if (values.output) {
    await writeFile(values.output, text);
    process.stderr.write(`beacon-sentinel export: wrote ${what} to ${values.output}\n`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}
