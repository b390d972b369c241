import { ConfigError, collectSecrets } from "../../shared/config/index.ts";
import { createRedactor } from "../../shared/redact.ts";
import { readFileSync } from "node:fs";
import { EX_USAGE, UsageError } from "./errors.ts";
import { CLI, COMMAND_HELP, commandHelp, overview } from "./help.ts";

export type Command = (args: string[]) => Promise<number>;

// Loaded on demand: `run` should not pay for the local Netlify emulation that `start` needs.
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import("./run.ts")).runCommand,
  start: async () => (await import("./local.ts")).startCommand,
  sandbox: async () => (await import("./local.ts")).sandboxCommand,
  incident: async () => (await import("./local.ts")).incidentCommand,
  incidents: async () => (await import("./incidents.ts")).incidentsCommand,
  evaluate: async () => (await import("./fanin.ts")).evaluateCommand,
  silence: async () => (await import("./fanin.ts")).silenceCommand,
  load: async () => (await import("./load.ts")).loadCommand,
  "canary-key": async () => (await import("./canary-key.ts")).canaryKeyCommand,
  canary: async () => (await import("./canary-wait.ts")).canaryCommand,
  status: async () => (await import("./status.ts")).statusCommand,
  history: async () => (await import("./history.ts")).historyCommand,
  cost: async () => (await import("./cost.ts")).costCommand,
  "republish-stuck": async () => (await import("./remediate.ts")).republishStuckCommand,
  export: async () => (await import("./export.ts")).exportCommand,
  doctor: async () => (await import("./doctor.ts")).doctorCommand,
};

/** The package's version, from package.json beside the CLI (the CLI runs from a checkout or an npm install). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
}

/** `--help` or `-h` among a command's arguments (before a `--` that ends the options). */
function asksForHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/**
 * The CLI's stdout is its output (a report, JSON under --json); the runtime's logger writes info lines
 * with console.log, so while a command runs those go to stderr with the warnings and errors.
 */
function logsToStderr(): () => void {
  const saved = { log: console.log, info: console.info, debug: console.debug };
  console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);
  return () => void Object.assign(console, saved);
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-V" || name === "version") {
    process.stdout.write(`${CLI} ${version()}\n`);
    return 0;
  }
  // `help --help` asks for help about help: the overview, like `help` alone.
  const aboutHelp = name === "help" && (rest.length === 0 || rest[0] === "--help" || rest[0] === "-h");
  if (!name || name === "--help" || name === "-h" || aboutHelp) {
    process.stdout.write(overview());
    return name ? 0 : EX_USAGE;
  }
  if (name === "help") return help(rest[0]!);
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`${CLI}: unknown command "${name}"\n\n${overview()}`);
    return EX_USAGE;
  }
  if (asksForHelp(rest)) {
    process.stdout.write(commandHelp(name));
    return 0;
  }
  const restore = logsToStderr();
  try {
    const command = await load();
    return await command(rest);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      // Problems never quote secret values, and the redactor (URL scrubbing included) makes sure.
      process.stderr.write(`${CLI} ${name}: ${createRedactor(collectSecrets(process.env))(error.message)}\n`);
      return EX_USAGE;
    }
    if (isParseArgsError(error)) {
      process.stderr.write(`${CLI} ${name}: ${(error as Error).message}\n\n${commandHelp(name)}`);
      return EX_USAGE;
    }
    // Anything else (an unreachable store, say): one line, no stack, unless SENTINEL_DEBUG is set.
    if (process.env.SENTINEL_DEBUG) throw error;
    const redact = createRedactor(collectSecrets(process.env));
    process.stderr.write(`${CLI} ${name}: ${redact(describe(error))}\n`);
    return 2;
  } finally {
    restore();
  }
}

function help(command: string): number {
  if (!(command in COMMAND_HELP)) {
    process.stderr.write(`${CLI} help: unknown command "${command}" (commands: ${Object.keys(COMMAND_HELP).join(", ")})\n`);
    return EX_USAGE;
  }
  process.stdout.write(commandHelp(command));
  return 0;
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
