import { parseArgs } from "node:util";
import { createInterface } from "node:readline/promises";
import { generateKeyPair } from "../../shared/beacon/signing.ts";
import { silentLogger } from "../../shared/log.ts";
import { formatReport, progressLine } from "../../shared/load/format.ts";
import { LOAD_LIMITS, runLoad } from "../../shared/load/run.ts";
import { createRuntime } from "../runtime.ts";
import { EX_USAGE, UsageError } from "./errors.ts";

/** What the command touches, injectable so that tests drive it without a terminal. */
export interface LoadIo {
  env: Record<string, string | undefined>;
  out(text: string): void;
  err(text: string): void;
  /** Whether a person can answer a prompt (stdin is a TTY). */
  interactive: boolean;
  /** Whether the progress bar can redraw in place (stderr is a TTY). */
  progress: boolean;
  ask(question: string): Promise<string>;
}

const VARS_OF_THE_CONFIGURED_BEACON = ["BEACON_DATABASE_URL", "BEACON_REDIS_REST_URL", "BEACON_REDIS_REST_TOKEN", "BEACON_ADMIN_TOKEN", "NEON_WS_PROXY"];

/** `sentinel load --jobs N --concurrency C [--target URL] [--json] [--yes] [--time-limit S]` */
export async function loadCommand(args: string[]): Promise<number> {
  return runLoadCommand(args, {
    env: process.env, out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t),
    interactive: process.stdin.isTTY === true, progress: process.stderr.isTTY === true,
    async ask(question) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
  });
}

export async function runLoadCommand(args: string[], io: LoadIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      jobs: { type: "string", default: "10" }, concurrency: { type: "string", default: "5" }, target: { type: "string" },
      json: { type: "boolean", default: false }, yes: { type: "boolean", default: false }, "time-limit": { type: "string", default: "600" },
      "poll-ms": { type: "string", default: "1000" },
    },
  });
  const jobs = bounded(values.jobs, "--jobs", 1, LOAD_LIMITS.maxJobs);
  const concurrency = bounded(values.concurrency, "--concurrency", 1, LOAD_LIMITS.maxConcurrency);
  const timeLimit = bounded(values["time-limit"], "--time-limit", 1, LOAD_LIMITS.maxTimeLimitSeconds);
  const pollMs = bounded(values["poll-ms"], "--poll-ms", 50, 60_000);

  // No target anywhere: a Beacon sandbox of our own, for the length of the run.
  const local = !values.target && !io.env.BEACON_API_URL?.trim() ? await startLocal(io) : undefined;
  try {
    const env: Record<string, string | undefined> = { ...io.env, ...local?.env };
    const target = (values.target ?? env.BEACON_API_URL ?? "").replace(/\/+$/, "");
    if (!/^https?:\/\//.test(target)) throw new UsageError(`--target must be an http(s) URL, got "${target}"`);
    // Database, Redis and admin token describe the configured Beacon: use them only when that is the target.
    if (env.BEACON_API_URL?.replace(/\/+$/, "") !== target) for (const name of VARS_OF_THE_CONFIGURED_BEACON) delete env[name];
    const rt = createRuntime({ ...env, BEACON_API_URL: target }, { requireStore: false, log: silentLogger });
    try {
      const sandbox = Boolean(local) || (await isSandbox(target, rt.deps.fetch));
      let signingKey = rt.config.canarySigningKey;
      if (!signingKey && !sandbox) throw new UsageError(`CANARY_SIGNING_KEY is required to submit jobs to ${target} (register its public key in Beacon's TRUSTED_KEYS_JSON)`);
      if (!signingKey) {
        signingKey = generateKeyPair().privateKey;
        io.err("load: signing with a fresh key: the local sandbox runs without a trusted-keys allowlist and verifies every signature\n");
      }
      if (!sandbox && !values.yes) {
        const question = `load: ${target} is not the local sandbox. Submit ${jobs} jobs there? Each one runs real inference. Type "yes" to continue: `;
        if (!io.interactive) {
          io.err(`load: refusing to submit ${jobs} jobs to ${target} without confirmation: every job costs real inference. Pass --yes to confirm.\n`);
          return EX_USAGE;
        }
        if ((await io.ask(question)).trim().toLowerCase() !== "yes") {
          io.err("load: not confirmed, nothing submitted\n");
          return 1;
        }
      }
      const settings = rt.config.settings;
      const report = await runLoad(
        {
          apiUrl: target, jobs, concurrency, signingKey, shape: settings.probes.canary, beacon: settings.beacon,
          slo: { thresholdSeconds: settings.probes.canary.startLatencySeconds, target: settings.slos.find((o) => o.id === "processing-time")?.target ?? 0.99 },
          timeLimitSeconds: timeLimit, pollIntervalMs: pollMs, requestTimeoutMs: settings.probes.canary.requestTimeoutMs,
        },
        {
          fetch: rt.deps.fetch, now: rt.deps.now, sql: rt.deps.sql, beaconRedis: rt.deps.beaconRedis, adminToken: rt.config.beaconAdminToken,
          ...(io.progress && !values.json ? { onProgress: (p) => io.err(`\r${progressLine(p)}\x1b[K`) } : {}),
        },
      );
      if (io.progress && !values.json) io.err("\n");
      io.out(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      return report.findings.length ? 1 : 0;
    } finally {
      await rt.close();
    }
  } finally {
    await local?.close();
  }
}

/** The sandbox answers `/__sandbox/incidents` and runs on this machine; Beacon has no such route. */
async function isSandbox(target: string, fetchFn: typeof fetch): Promise<boolean> {
  const host = new URL(target).hostname;
  if (!["localhost", "127.0.0.1", "[::1]", "::1"].includes(host) && !host.startsWith("127.")) return false;
  try {
    const res = await fetchFn(`${target}/__sandbox/incidents`, { signal: AbortSignal.timeout(3_000) });
    const body = (await res.json()) as { incidents?: unknown };
    return res.status === 200 && Array.isArray(body.incidents);
  } catch {
    return false;
  }
}

async function startLocal(io: LoadIo) {
  const { startLocalBeacon } = await import("../local/beacon.ts");
  const local = await startLocalBeacon({ port: 0, log: (line) => io.err(`load: ${line}\n`) });
  io.err(`load: no --target and no BEACON_API_URL: running against a local Beacon sandbox at ${local.sandbox.url}\n`);
  return local;
}

function bounded(raw: string | undefined, flag: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}
