import { parseArgs } from "node:util";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalBeacon } from "../local/beacon.ts";
import { startLocalNetlify } from "../local/netlify-dev.ts";
import { loadConfig } from "../../shared/config/index.ts";
import { ProbeResult } from "../../shared/result.ts";
import { UsageError } from "./errors.ts";
import { parseJson } from "../../shared/http.ts";
import { INCIDENT_NAMES } from "../../test/sandbox/incidents.ts";
import { SEND_EXTRA_COMMANDS, TICK_COMMANDS } from "../../shared/cost/model.ts";
import { filterLines, probeLine, readableLog, tickLine, type TickAnswer } from "./start-output.ts";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const say = (line: string) => process.stdout.write(`${line}\n`);

/** `sentinel start [--json]`: the sentinel's functions on their schedules, against the sandbox unless configured. */
export async function startCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: "string", default: "8888" }, "sandbox-port": { type: "string", default: "8080" }, json: { type: "boolean", default: false } } });
  const json = values.json;
  // A taken port is said at once, with the flag that moves it, before anything starts.
  await portFree(port(values.port), "--port");
  if (!process.env.BEACON_API_URL) await portFree(port(values["sandbox-port"]), "--sandbox-port");
  // The functions log JSON (what Netlify's log drains want); on a terminal those lines are made readable.
  const restore = json ? () => {} : filterFunctionLogs();
  const local = process.env.BEACON_API_URL ? undefined : await startLocalBeacon({ port: port(values["sandbox-port"]), log: (l) => say(`start: ${l}`) });
  if (local) {
    Object.assign(process.env, local.env);
    say(`start: no BEACON_API_URL set, so the sentinel watches the local Beacon sandbox at ${local.sandbox.url}`);
  } else {
    say(`start: watching ${process.env.BEACON_API_URL}`);
  }
  const config = loadConfig(process.env); // fail fast, listing every problem, before anything is scheduled

  const began = Date.now();
  const seconds = () => `${((Date.now() - began) / 1000).toFixed(1)} s`;
  say("start: starting Netlify's local runtime (@netlify/dev) and reading the functions' schedules...");
  let answered = false;
  const waiting = setInterval(() => say(`start: still bundling the tick function and running its first tick (${seconds()} so far)`), 20_000);
  const netlify = await startLocalNetlify({
    projectRoot, port: port(values.port), fireOnStart: true,
    onInvocation: (name, response) => {
      if (!answered) {
        answered = true;
        clearInterval(waiting);
        say(`start: the first ${name} answered after ${seconds()} (bundling happens once; later ticks take about a second)`);
      }
      void summarize(name, response, json);
    },
    onSkip: (name) => say(`[${clock()}] ${name}: the previous run is still going; this minute is skipped, as Netlify does`),
  });
  say(`start: Netlify functions served at ${netlify.url}`);
  for (const f of netlify.scheduled) say(`start:   ${f.name.padEnd(16)} ${f.schedule}`);
  if (config.topology === "per-probe" && !netlify.scheduled.some((f) => f.name.startsWith("probe-"))) {
    say("start: WARNING SENTINEL_TOPOLOGY=per-probe, but no probe function is scheduled: uncomment netlify.toml's per-probe block, or no probe runs (the tick only evaluates, and reports each probe missing)");
  }
  if (!answered) say(`start: bundling ${netlify.scheduled.map((f) => f.name).join(", ")} for its first run (through @netlify/dev: up to a minute or two on a busy machine)`);
  say(`start: status page ${netlify.url}/status · status API ${netlify.url}/api/status`);
  if (local) {
    say(`start: try an incident:  npx beacon-sentinel incident health-unhealthy on --url ${local.sandbox.url}`);
    say("start: to use the CLI against this stack (npx beacon-sentinel run health, evaluate, status...), export:");
    for (const [k, v] of Object.entries(local.env)) say(`  export ${k}='${v}'`);
  }
  say(`start: each tick prints a line per probe it ran, then a summary with its store commands (${TICK_COMMANDS}, ${TICK_COMMANDS + SEND_EXTRA_COMMANDS} when it sends: npx beacon-sentinel cost); Ctrl-C to stop`);
  await untilInterrupted();
  clearInterval(waiting);
  await netlify.close();
  await local?.close();
  restore();
  return 0;
}

const clock = () => new Date().toISOString().slice(11, 19);

function filterFunctionLogs(): () => void {
  const out = filterLines(process.stdout, (line) => readableLog(line, clock()));
  const err = filterLines(process.stderr, (line) => readableLog(line, clock()));
  return () => {
    out();
    err();
  };
}

async function summarize(name: string, response: Response, json: boolean) {
  const text = await response.text();
  const parsed = parseJson(text);
  const time = clock();
  const report = parsed.ok ? (parsed.value as TickAnswer) : undefined;
  if (!response.ok || !report || !Array.isArray(report.results)) return say(`[${time}] ${name}: HTTP ${response.status} ${text.slice(0, 200)}`);
  const results = report.results.flatMap((raw) => {
    const r = ProbeResult.safeParse(raw);
    return r.success ? [r.data] : [];
  });
  if (json) return say(JSON.stringify({ at: new Date().toISOString(), function: name, ...report }));
  for (const r of results) say(probeLine(r, time));
  say(tickLine(name, { ...report, results }, time));
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
  say(`sandbox: incidents: ${local.sandbox.url}/__sandbox/incidents  (npx beacon-sentinel incident list)`);
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
    throw new UsageError(`no sandbox answers at ${new URL(url).origin} (start one with: npx beacon-sentinel sandbox, or pass --url)`);
  }
}

function port(raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`"${raw}" is not a port number`);
  return n;
}

/** Throws a usage error naming the flag when something already listens on `n` (0 picks a free port). */
async function portFree(n: number, flag: string): Promise<void> {
  if (n === 0) return;
  const taken = await new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "EADDRINUSE"));
    probe.listen(n, "127.0.0.1", () => probe.close(() => resolve(false)));
  });
  if (taken) throw new UsageError(`port ${n} is already in use: choose another with ${flag} N (npm start -- ${flag} ${n + 2})`);
}

function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}
