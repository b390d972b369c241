import { ConfigError, collectSecrets } from "../../shared/config/index.ts";
import { createRedactor } from "../../shared/redact.ts";
import { UsageError } from "./errors.ts";

/** Exit code for bad usage or configuration (BSD's EX_USAGE), distinct from probe outcomes. */
export const EX_USAGE = 64;


const HELP = `usage: sentinel <command> [options]

commands:
  run <probe-id|all> [--json] [--dry-run]   run probes once against the configured deployment
                                            exit 0 pass/warn, 1 fail, 2 error, 64 bad usage/config
  start                                     run the sentinel locally (on the sandbox unless BEACON_API_URL is set)
  sandbox [--port N]                        start the local Beacon sandbox alone and print its URLs
  sandbox --reset [--url URL]               return a running sandbox to green: incidents off, its data deleted
  incident <name> on|off [--url URL]        flip an incident switch on a running sandbox
  incident list [--url URL]                 list the sandbox's incident switches
  evaluate [--json] [--notify]              SLOs and alerts now; --notify consumes results and sends to Slack
                                            (without it: a read-only preview). exit 1 while anything fires
  silence add (--probe P [--check C] | --slo S) (--for 2h | --until ISO) [--starts ISO] [--comment T] [--by NAME]
  silence list | silence remove <id>        hold notifications; checks keep running and recording
  load --jobs N --concurrency C [--target URL] [--json] [--yes] [--time-limit S]
                                            submit N signed jobs and follow them (a local sandbox without a target);
                                            any other target needs --yes or a typed "yes". exit 1 on findings
  canary-key [--kid NAME] [--from-env]      a new canary key pair and its TRUSTED_KEYS_JSON entry
  status [--json]                           the pipeline, probes, SLO budgets and firing alerts, from the store
                                            exit 0 passing/degraded, 1 failing, 2 blind/unknown
  republish-stuck [--execute] [--job ID]... [--limit N] [--json]
                                            stuck jobs with their cause and whether republishing helps;
                                            --execute republishes via Beacon's admin API, paced and audited
`;

export type Command = (args: string[]) => Promise<number>;

// Loaded on demand: `run` should not pay for the local Netlify emulation that `start` needs.
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import("./run.ts")).runCommand,
  start: async () => (await import("./local.ts")).startCommand,
  sandbox: async () => (await import("./local.ts")).sandboxCommand,
  incident: async () => (await import("./local.ts")).incidentCommand,
  evaluate: async () => (await import("./fanin.ts")).evaluateCommand,
  silence: async () => (await import("./fanin.ts")).silenceCommand,
  load: async () => (await import("./load.ts")).loadCommand,
  "canary-key": async () => (await import("./canary-key.ts")).canaryKeyCommand,
  status: async () => (await import("./status.ts")).statusCommand,
  "republish-stuck": async () => (await import("./remediate.ts")).republishStuckCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(HELP);
    return name ? 0 : EX_USAGE;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`sentinel: unknown command "${name}"\n\n${HELP}`);
    return EX_USAGE;
  }
  try {
    const command = await load();
    return await command(rest);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`sentinel ${name}: ${error.message}\n`);
      return EX_USAGE;
    }
    if (isParseArgsError(error)) {
      process.stderr.write(`sentinel ${name}: ${(error as Error).message}\n\n${HELP}`);
      return EX_USAGE;
    }
    // Anything else (an unreachable store, say): one line, no stack, unless SENTINEL_DEBUG is set.
    if (process.env.SENTINEL_DEBUG) throw error;
    const redact = createRedactor(collectSecrets(process.env));
    process.stderr.write(`sentinel ${name}: ${redact(describe(error))}\n`);
    return 2;
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error.cause as { code?: string; message?: string } | undefined);
  return cause?.code || cause?.message ? `${error.message} (${cause.code ?? cause.message})` : error.message;
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}
