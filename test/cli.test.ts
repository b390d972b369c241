import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { main } from "../netlify/cli/main.ts";
import { COMMAND_HELP, commandHelp } from "../netlify/cli/help.ts";
import { PROBE_IDS } from "../shared/probes/catalog.ts";
import { ProbeResult } from "../shared/result.ts";
import { INCIDENT_NAMES } from "./sandbox/incidents.ts";
import type { Runtime } from "../netlify/runtime.ts";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { recordRun, sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";

/** The CLI as people and scripts use it: the real binary, its exit codes, and what lands on stdout vs stderr. */

const exec = promisify(execFile);
let h: Harness;
let sandbox: Sandbox;
let env: Record<string, string>;
let rt: Runtime;

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start();
  // One failed health run fires its alert, so that an evaluation has something to log about.
  env = sentinelEnv(h, sandbox, { alerting: { probes: { health: { failuresToTrigger: 1, window: 1 } } } });
  rt = sentinelRuntime(env);
});
afterAll(async () => {
  await rt?.close();
  await h?.close();
});

async function sentinel(args: string[], extra: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["netlify/bin/sentinel.mjs", ...args], { env: { ...process.env, ...env, ...extra }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("sentinel cost without Beacon", () => {
  it("prints the month from configuration alone: no BEACON_* variable, no store", async () => {
    const bare = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("BEACON_") && !k.startsWith("SENTINEL_")));
    try {
      const { stdout } = await exec(process.execPath, ["netlify/bin/sentinel.mjs", "cost", "--json"], { env: bare as NodeJS.ProcessEnv, timeout: 60_000 });
      const month = JSON.parse(stdout) as { input: { canaryEnabled: boolean }; sizesFrom: string };
      expect(month.input.canaryEnabled).toBe(false);
      expect(month.sizesFrom).not.toBe("as stored now");
    } catch (error) {
      throw new Error(`sentinel cost failed without Beacon: ${(error as { stderr?: string }).stderr ?? String(error)}`);
    }
  });
});

/** main() in this process, for the many cheap cases; stdout and stderr captured. */
async function inProcess(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (err.push(String(chunk)), true));
  try {
    return { code: await main(args), stdout: out.join(""), stderr: err.join("") };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe("sentinel start on a taken port", () => {
  it("says which port is taken and the flag that moves it, exits 64, and starts nothing", async () => {
    const { createServer } = await import("node:net");
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const taken = (busy.address() as { port: number }).port;
    try {
      const out = await sentinel(["start", "--port", String(taken)], { BEACON_API_URL: "http://127.0.0.1:9" });
      expect(out).toMatchObject({ code: 64, stdout: "" });
      expect(out.stderr).toContain(`port ${taken} is already in use: choose another with --port N (npm start -- --port ${taken + 2})`);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  }, 30_000);
});

describe("sentinel --version and --help", () => {
  it("--version prints the package's version and exits 0", async () => {
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    const out = await sentinel(["--version"]);
    expect(out).toMatchObject({ code: 0, stdout: `beacon-sentinel ${version}\n`, stderr: "" });
  }, 30_000);

  // `sentinel` alone is an unrelated npm package: the command is `beacon-sentinel`, `sentinel` an alias for now.
  it("package.json installs the CLI as beacon-sentinel and as the alias sentinel, and npx runs both from a checkout", async () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string; bin: Record<string, string> };
    expect(pkg.bin).toEqual({ "beacon-sentinel": "netlify/bin/sentinel.mjs", sentinel: "netlify/bin/sentinel.mjs" });
    for (const name of Object.keys(pkg.bin)) {
      // --offline: npx must find the checkout's own bin, never fetch a package of that name from the registry.
      const { stdout } = await exec("npx", ["--offline", name, "--version"], { env: { ...process.env, ...env }, timeout: 60_000 });
      expect(stdout).toBe(`beacon-sentinel ${pkg.version}\n`);
    }
  }, 120_000);

  it("help and messages name the command beacon-sentinel, never the bare alias", async () => {
    const overview = await inProcess(["--help"]);
    expect(overview.stdout).toMatch(/^usage: beacon-sentinel <command> \[options\]\n {7}beacon-sentinel help <command>/);
    const unknown = await inProcess(["nosuch"]);
    expect(unknown.stderr).toMatch(/^beacon-sentinel: unknown command "nosuch"/);
    // Every line that shows a command to type starts it with the full name.
    const texts = [overview.stdout, ...Object.keys(COMMAND_HELP).map((n) => commandHelp(n))];
    for (const text of texts) expect(text).not.toMatch(/(^|[\s`(:])sentinel (run|start|sandbox|incident|evaluate|silence|load|canary|status|history|cost|export|republish|help)\b/m);
    expect(readFileSync("README.md", "utf8")).not.toMatch(/npx sentinel |`sentinel [a-z]/);
  });

  it.each([["help", "--help"], ["help", "-h"]])("%s %s prints the overview and exits 0 (it was exit 64, unknown command)", async (...args) => {
    const out = await inProcess(args);
    expect(out.code).toBe(0);
    expect(out).toEqual(await inProcess(["--help"]));
  });

  it("run --help exits 0 with the command's usage (it was exit 64, unknown option)", async () => {
    const out = await sentinel(["run", "--help"]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^usage: beacon-sentinel run <probe-id\|all>/);
  }, 30_000);

  it.each(Object.keys(COMMAND_HELP))("%s --help, -h and `help %s` print its usage and exit 0", async (name) => {
    const long = await inProcess([name, "--help"]);
    expect(long.code).toBe(0);
    expect(long.stdout).toMatch(new RegExp(`^usage: beacon-sentinel ${name.replace("-", "\\-")}\\b`));
    expect(await inProcess([name, "-h"])).toEqual(long);
    expect(await inProcess(["help", name])).toEqual(long);
  });

  it("lists every command in the overview", async () => {
    const out = await inProcess(["--help"]);
    expect(out.code).toBe(0);
    for (const name of Object.keys(COMMAND_HELP)) expect(out.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
  });

  it.each([
    ["help-for-an-unknown-command", ["help", "nosuch"], /unknown command "nosuch" \(commands: run, start/],
    ["an-unknown-option", ["status", "--bogus"], /Unknown option '--bogus'/],
    ["--help-after-the-end-of-options-is-an-argument", ["run", "--", "--help"], /unknown probe "--help"/],
  ])("exits 64 for %s", async (_rule, args, message) => {
    const out = await inProcess(args);
    expect(out.code).toBe(64);
    expect(out.stderr).toMatch(message);
  });
});

describe("stdout is the output: JSON under --json, logs on stderr", () => {
  it("evaluate --notify --json: one JSON document on stdout, the log line on stderr", async () => {
    sandbox.incidents.set("health-unhealthy", true);
    try {
      await recordRun(rt, "health");
    } finally {
      sandbox.incidents.set("health-unhealthy", false);
    }
    const out = await sentinel(["evaluate", "--notify", "--json"]);
    expect(out.code, out.stderr).toBe(1); // something fires
    const report = JSON.parse(out.stdout) as { firing: { key: string }[] };
    expect(report.firing.map((a) => a.key)).toContain("check/health/runner-health");
    expect(out.stderr).toContain("evaluation stored");
  }, 60_000);

  it("run --json: the result document alone", async () => {
    const out = await sentinel(["run", "health", "--json"]);
    expect(out.code, out.stderr).toBe(0);
    expect(ProbeResult.parse(JSON.parse(out.stdout)).probe).toBe("health");
  }, 30_000);

  it.each([["status", ["status", "--json"]], ["silence list", ["silence", "list", "--json"]]])("%s --json parses", async (_name, args) => {
    const out = await sentinel(args);
    expect(() => JSON.parse(out.stdout), out.stderr).not.toThrow();
  }, 30_000);
});

describe("unknown names are refused, listing the known ones", () => {
  it("silence add --probe nosuch is refused and stores nothing", async () => {
    const out = await sentinel(["silence", "add", "--probe", "nosuch", "--for", "1h"]);
    expect(out.code).toBe(64);
    expect(out.stderr).toContain(`probe: unknown probe "nosuch"; known: ${PROBE_IDS.join(", ")}`);
    expect(JSON.parse((await sentinel(["silence", "list", "--json"])).stdout)).toEqual([]);
  }, 30_000);

  it("silence add --slo nosuch is refused", async () => {
    const out = await sentinel(["silence", "add", "--slo", "nosuch", "--for", "1h"]);
    expect(out.code).toBe(64);
    expect(out.stderr).toMatch(/slo: unknown SLO "nosuch"; known: job-success, api-availability, processing-time, error-rate/);
  }, 30_000);

  it("silence add --probe health --check nosuch is refused once health has reported", async () => {
    const out = await sentinel(["silence", "add", "--probe", "health", "--check", "nosuch", "--for", "1h"]);
    expect(out.code).toBe(64);
    expect(out.stderr).toMatch(/check: probe health has no check "nosuch" in its latest result; known: .*runner-health/);
  }, 30_000);

  it("incident nosuch on says the incident is unknown, not that no sandbox answers", async () => {
    const out = await inProcess(["incident", "nosuch", "on", "--url", "http://127.0.0.1:9"]);
    expect(out.code).toBe(64);
    expect(out.stderr).toBe(`beacon-sentinel incident: unknown incident "nosuch"; known: ${INCIDENT_NAMES.join(", ")}\n`);
  });

  it("incident region-down eu-west on|off flips that region's switch on the sandbox (also spelled region-down:eu-west)", async () => {
    const on = await inProcess(["incident", "region-down", "eu-west", "on", "--url", sandbox.url]);
    expect(on).toMatchObject({ code: 0, stdout: "incident region-down:eu-west is on\n" });
    expect(sandbox.incidents.isOn("region-down:eu-west")).toBe(true);
    expect(sandbox.incidents.isOn("region-down:us-east")).toBe(false);
    expect(await inProcess(["incident", "region-down:eu-west", "off", "--url", sandbox.url])).toMatchObject({ code: 0 });
    expect(sandbox.incidents.isOn("region-down:eu-west")).toBe(false);
    expect((await inProcess(["incident", "region-down", "mars", "on", "--url", sandbox.url])).stderr).toContain('unknown incident "region-down:mars"');
  });

  it("run nosuch lists the probes", async () => {
    const out = await inProcess(["run", "nosuch"]);
    expect(out.code).toBe(64);
    expect(out.stderr).toContain(`unknown probe "nosuch" (known: ${PROBE_IDS.join(", ")}, all)`);
  });
});

describe("configuration errors", () => {
  it("SENTINEL_SETTINGS with broken JSON says where it broke", async () => {
    const out = await sentinel(["status"], { SENTINEL_SETTINGS: "{bad" });
    expect(out.code).toBe(64);
    expect(out.stderr).toContain("SENTINEL_SETTINGS: not valid JSON at line 1, column 2 (character 2): expected a double-quoted property name");
  }, 30_000);

  it("an unknown top-level settings key is named without a stray dot", async () => {
    const out = await sentinel(["export", "prometheus-rules"], { SENTINEL_SETTINGS: '{"slo": []}' });
    expect(out.code).toBe(64);
    expect(out.stderr).toContain('SENTINEL_SETTINGS: Unrecognized key: "slo"');
    expect(out.stdout).toBe("");
  }, 30_000);
});
