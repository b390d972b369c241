import { parseArgs } from "node:util";
import { writeFile } from "node:fs/promises";
import { loadSettings } from "../../shared/config/index.ts";
import { prometheusRulesYaml } from "../../shared/export/prometheus-rules.ts";
import { grafanaDashboard } from "../../shared/export/grafana-dashboard.ts";
import { UsageError } from "./errors.ts";

const WHAT: Record<string, (env: Record<string, string | undefined>) => string> = {
  "prometheus-rules": (env) => prometheusRulesYaml(loadSettings(env).slos),
  "grafana-dashboard": () => `${JSON.stringify(grafanaDashboard(), null, 2)}\n`,
};

/** `sentinel export prometheus-rules|grafana-dashboard [--output FILE]`: from SENTINEL_SETTINGS alone. */
export async function exportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { output: { type: "string", short: "o" } } });
  const [what, ...extra] = positionals;
  const render = what === undefined ? undefined : WHAT[what];
  if (!render || extra.length > 0) throw new UsageError(`expected one of: ${Object.keys(WHAT).join(", ")}${what && !render ? ` (not "${what}")` : ""}`);
  const text = render(process.env);
  if (values.output) {
    await writeFile(values.output, text);
    process.stderr.write(`beacon-sentinel export: wrote ${what} to ${values.output}\n`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}
