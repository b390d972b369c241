import { parseArgs } from "node:util";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalBeacon } from "../local/beacon.ts";
import { startLocalNetlify } from "../local/netlify-dev.ts";
import { loadConfig } from "../../shared/config/index.ts";
import { ProbeResult } from "../../shared/result.ts";
import { UsageError } from "./errors.ts";
import { parseJson } from "../../shared/http.ts";
import { INCIDENT_NAMES } from "../../test/sandbox/incidents.ts";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const say = (line: string) => process.stdout.write(`${line}\n`);

/** `sentinel start`: the sentinel's functions on their schedules, against the sandbox unless configured. */
export async function startCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: "string", default: "8888" }, "sandbox-port": { type: "string", default: "8080" } } });
  const local = process.env.BEACON_API_URL ? undefined : await startLocalBeacon({ port: port(values["sandbox-port"]), log: (l) => say(`start: ${l}`) });
  if (local) {
    Object.assign(process.env, local.env);
    say(`start: no BEACON_API_URL set, so the sentinel watches the local Beacon sandbox at ${local.sandbox.url}`);
  } else {
    say(`start: watching ${process.env.BEACON_API_URL}`);
  }
  loadConfig(process.env); // fail fast, listing every problem, before anything is scheduled

  const netlify = await startLocalNetlify({
    projectRoot, port: port(values.port), fireOnStart: true,
    onInvocation: (name, response) => void summarize(name, response),
  });
  say(`start: Netlify functions served at ${netlify.url} (each function is bundled on its first run: the first results take a little while)`);
  for (const f of netlify.scheduled) say(`start:   ${f.name.padEnd(16)} ${f.schedule}`);
  say(`start: status page ${netlify.url}/status · status API ${netlify.url}/api/status`);
  if (local) {
    say(`start: try an incident:  npx sentinel incident health-unhealthy on --url ${local.sandbox.url}`);
    say("start: to use the CLI against this stack (npx sentinel run health, evaluate, status...), export:");
    for (const [k, v] of Object.entries(local.env)) say(`  export ${k}='${v}'`);
  }
  say("start: Ctrl-C to stop");
  await untilInterrupted();
  await netlify.close();
  await local?.close();
  return 0;
}

async function summarize(name: string, response: Response) {
  const text = await response.text();
  const json = parseJson(text);
  const time = new Date().toISOString().slice(11, 19);
  const report = json.ok ? (json.value as { results?: unknown[]; firing?: { key: string }[]; notifications?: unknown[]; delivered?: number; unsent?: number; skipped?: string; lost?: number }) : undefined;
  if (!response.ok || !report || !Array.isArray(report.results)) return say(`[${time}] ${name}: HTTP ${response.status} ${text.slice(0, 200)}`);
  for (const raw of report.results) {
    const parsed = ProbeResult.safeParse(raw);
    if (!parsed.success) continue;
    const r = parsed.data;
    const failing = r.checks.filter((c) => c.status !== "pass").map((c) => `${c.name}: ${c.message}`);
    say(`[${time}] ${r.probe}: ${r.status} in ${r.durationMs} ms${failing.length ? `\n    ${failing.join("\n    ")}` : ""}${r.error ? ` (${r.error})` : ""}`);
  }
  const firing = report.firing?.map((a) => a.key) ?? [];
  const sent = report.unsent ? `${report.unsent} notification(s) logged (no Slack configured)` : `${report.notifications?.length ?? 0} notification(s), ${report.delivered ?? 0} delivered`;
  say(`[${time}] ${name}: ${report.skipped ?? `ran ${report.results.length} probe(s); ${firing.length ? `firing: ${firing.join(", ")}` : "nothing firing"}; ${sent}`}`);
}

/**
 * `sentinel sandbox [--port N]`: the local Beacon alone, with the env that points a sentinel at it.
 * `sentinel sandbox --reset [--url U]`: return a running sandbox to a green pipeline (incidents off,
 * its jobs, outbox, executions and queue keys deleted).
 */
export async function sandboxCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: "string", default: "8080" }, reset: { type: "boolean", default: false }, url: { type: "string" } } });
  if (values.reset) return resetSandboxCommand(values.url);
  if (values.url) throw new UsageError("--url goes with --reset (to start a sandbox, give --port)");
  const local = await startLocalBeacon({ port: port(values.port), log: (l) => say(`sandbox: ${l}`) });
  say(`sandbox: Beacon runner API at ${local.sandbox.url}`);
  say(`sandbox: incidents: ${local.sandbox.url}/__sandbox/incidents  (npx sentinel incident list)`);
  say("sandbox: to point the sentinel at it, export:");
  for (const [k, v] of Object.entries(local.env)) say(`  export ${k}='${v}'`);
  say("sandbox: Ctrl-C to stop");
  await untilInterrupted();
  await local.close();
  return 0;
}

async function resetSandboxCommand(url: string | undefined): Promise<number> {
  const base = url ?? process.env.BEACON_API_URL ?? "http://127.0.0.1:8080";
  const response = await reach(`${base}/__sandbox/reset`, { method: "POST" });
  const body = await response.text();
  if (!response.ok) throw new UsageError(`sandbox answered HTTP ${response.status}: ${body}`);
  const parsed = parseJson(body);
  const report = (parsed.ok ? parsed.value : {}) as { incidentsCleared?: string[]; rowsDeleted?: Record<string, number>; redisKeysDeleted?: number };
  const rows = Object.entries(report.rowsDeleted ?? {}).map(([table, n]) => `${n} ${table}`).join(", ");
  say(`sandbox reset: incidents switched off: ${report.incidentsCleared?.length ? report.incidentsCleared.join(", ") : "none"}`);
  say(`sandbox reset: deleted ${rows || "no rows"} and ${report.redisKeysDeleted ?? 0} queue keys`);
  say("sandbox reset: the sentinel's own results and alerts clear as its probes pass again (silences stay)");
  return 0;
}

/** `sentinel incident <name> on|off` and `sentinel incident list`, against a running sandbox. */
export async function incidentCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { url: { type: "string" } } });
  const base = values.url ?? process.env.BEACON_API_URL ?? "http://127.0.0.1:8080";
  // A regional switch may be named in two words: `incident region-down eu-west on` is `region-down:eu-west`.
  const [name, state] = positionals.length === 3 ? [`${positionals[0]}:${positionals[1]}`, positionals[2]] : positionals;
  if (name === "list" && !state) {
    const response = await reach(`${base}/__sandbox/incidents`);
    say(JSON.stringify(await response.json(), null, 2));
    return 0;
  }
  if (!name || (state !== "on" && state !== "off") || positionals.length < 2 || positionals.length > 3) {
    throw new UsageError(`expected: incident <name> on|off (a regional one also as: incident region-down eu-west on), or: incident list (names: ${INCIDENT_NAMES.join(", ")})`);
  }
  // Judged here, before reaching for a sandbox: a typo should say so, not "no sandbox answers".
  if (!(INCIDENT_NAMES as readonly string[]).includes(name)) throw new UsageError(`unknown incident "${name}"; known: ${INCIDENT_NAMES.join(", ")}`);
  const response = await reach(`${base}/__sandbox/incidents/${encodeURIComponent(name)}`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ on: state === "on" }),
  });
  const body = await response.text();
  if (!response.ok) throw new UsageError(`sandbox answered HTTP ${response.status}: ${body}`);
  say(`incident ${name} is ${state}`);
  return 0;
}

async function reach(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    throw new UsageError(`no sandbox answers at ${new URL(url).origin} (start one with: npx sentinel sandbox, or pass --url)`);
  }
}

function port(raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`"${raw}" is not a port number`);
  return n;
}

function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}
