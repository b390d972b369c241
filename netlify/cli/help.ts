/**
 * What `sentinel --help`, `sentinel help <command>` and `sentinel <command> --help` print. One entry per
 * command: its usage lines and what it does, options and exit codes included.
 */
/**
 * The command's name: `beacon-sentinel` (package.json "bin"). `sentinel` still runs it, as an alias for
 * now, but is the name of an unrelated npm package, so help and messages name the command by this.
 */
export const CLI = "beacon-sentinel";

export interface CommandHelp {
  usage: string[];
  /** One line (or two) for the overview. */
  summary: string;
  /** The rest, for the command's own help. */
  details?: string;
}

export const COMMAND_HELP: Record<string, CommandHelp> = {
  run: {
    usage: ["run <probe-id|all> [--json | --reporter text|json|junit] [--dry-run]"],
    summary: "run probes once against the configured deployment\nexit 0 pass/warn, 1 fail, 2 error, 64 bad usage/config",
    details: "--json            the result document(s) on stdout, nothing else (= --reporter json)\n--reporter junit  a JUnit XML report on stdout for CI: one test case per check,\n                  the evidence in each failure\n--dry-run         store nothing; `all` skips the canary (it needs the store) and says why",
  },
  start: {
    usage: ["start [--port N] [--sandbox-port N] [--json]"],
    summary: "run the sentinel locally (on the sandbox unless BEACON_API_URL is set)",
    details: "--port N          where the Netlify functions are served (default 8888)\n--sandbox-port N  the local Beacon sandbox's port (default 8080)\n--json            one JSON line per tick (its report) instead of readable lines; the functions' own logs stay JSON",
  },
  sandbox: {
    usage: ["sandbox [--port N]", "sandbox --reset [--url URL]"],
    summary: "start the local Beacon sandbox alone and print its URLs;\n--reset returns a running sandbox to green: incidents off, its data deleted",
    details: "--port N  the sandbox's port (default 8080)",
  },
  incident: {
    usage: ["incident <name> on|off [--url URL]", "incident list [--url URL]"],
    summary: "flip or list the incident switches of a running sandbox",
    details: "--url URL  the sandbox (default BEACON_API_URL, else http://127.0.0.1:8080)",
  },
  incidents: {
    usage: ["incidents [list] [--json]", "incidents show <id> [--json | --markdown]"],
    summary: "every incident's story from the store: the alert, its times, what was sent where,\nthe Beacon jobs it touched (with links); exit 1 for an unknown id",
    details: "--json      the incident(s) as JSON\n--markdown  a postmortem draft with the timeline (show only)\n(`incident`, singular, flips the sandbox's fault switches)",
  },
  evaluate: {
    usage: ["evaluate [--json] [--notify]"],
    summary: "SLOs and alerts on what is stored, running no probe; --notify stores and sends\n(without it: a read-only preview). exit 1 while anything fires",
    details: "--json    the evaluation report on stdout; logs go to stderr\n--notify  store the evaluation and send what it decides",
  },
  silence: {
    usage: ["silence add (--probe P [--check C] | --slo S) (--for 2h | --until ISO) [--starts ISO] [--comment T] [--by NAME] [--json]", "silence list [--json] | silence remove <id>"],
    summary: "hold notifications; checks keep running and recording",
    details: "--probe P, --slo S  what to silence: a registered probe (optionally one check of it) or a configured SLO\n--for D             30m, 2h, 1d or a number of minutes; or --until an ISO time",
  },
  load: {
    usage: ["load --jobs N --concurrency C [--target URL] [--json] [--yes] [--time-limit S]"],
    summary: "submit N signed jobs and follow them (a local sandbox without a target);\nany other target needs --yes or a typed \"yes\". exit 1 on findings",
  },
  "canary-key": {
    usage: ["canary-key [--kid NAME] [--from-env]"],
    summary: "a new canary key pair and its TRUSTED_KEYS_JSON entry",
    details: "--from-env  print the entry for CANARY_SIGNING_KEY's public half instead of a new pair",
  },
  canary: {
    usage: ["canary --wait [--timeout S] [--poll S]"],
    summary: "submit one canary now and follow it stage by stage to its receipt, printing each\nstage as it is decided (a deploy gate). exit 0 pass, 1 a stage failed or timed out, 2 blind",
    details: "--timeout S  give up after S seconds (default 600), naming the stage it waited for\n--poll S     seconds between looks (default 2)\nNeeds CANARY_SIGNING_KEY and BEACON_API_URL; stores nothing and does not touch the\nscheduled canary (its own in-process slot)",
  },
  status: {
    usage: ["status [--json]"],
    summary: "the pipeline, probes, SLO budgets and firing alerts, from the store\nexit 0 passing/degraded, 1 failing, 2 blind/unknown",
  },
  history: {
    usage: ["history [--days N] [--stage S] [--check probe/check] [--json]"],
    summary: "up to 90 days per stage from the store: uptime, incidents and a bar of\nthe last 30 days (= passing, ~ degraded, X failing, ? blind, . no data)",
    details: "--days N               how many days back, today included (1 to 90; default 90)\n--stage S              one stage, by its id as `status` lists them (runner-api, queue, …)\n--check probe/check    add one check's days, e.g. health/runner-health\n--json                 the same as GET /api/history\nexit 0; 64 for bad usage or an unknown stage or check (the known ones named)",
  },
  cost: {
    usage: ["cost [--json] [--topology tick|per-probe] [--measured | --tick-seconds S] [--memory-gb G] [--deploys N] [--page-hours-per-day H] [--page-refresh S] [--scrape-interval S]"],
    summary: "the month this configuration costs in every billed unit: Netlify credits, invocations,\nstore commands, transfer and storage, and Beacon's side (SQL, connections, Neon hours awake,\nqueue commands, requests), against each free allowance. exit 1 when a hard cap would be passed",
    details: "--topology T            project this shape instead of SENTINEL_TOPOLOGY's (tick: one tick runs the probes; per-probe: a function per probe, the tick evaluating)\n--measured              bill the tick's run time as it recorded it over its last day (needs the store)\n--tick-seconds S        or assume this run time per tick (default 0.5; per-probe: per invocation, its wait for the lock included; default 0.15 evaluating, 0.35 a probe, waits estimated)\n--memory-gb G           the functions' memory (default 1, Netlify's)\n--deploys N             production deploys a month (15 credits each; default 0)\n--page-hours-per-day H  hours a day a status page is open (default 24)\n--page-refresh S        its refresh interval (default 300, the page's own)\n--scrape-interval S     a Prometheus scrape of /api/metrics every S seconds (default none)\n--netlify-toml FILE     where a [functions.tick] schedule override is read (default ./netlify.toml)",
  },
  "republish-stuck": {
    usage: ["republish-stuck [--execute] [--job ID]... [--limit N] [--json]"],
    summary: "stuck jobs with their cause and whether republishing helps;\n--execute republishes via Beacon's admin API, paced and audited",
  },
  doctor: {
    usage: ["doctor [--json]"],
    summary: "checks, read-only, that Beacon's database has the indexes the sentinel's statements\nrely on; prints CREATE INDEX CONCURRENTLY advice for each missing one. exit 0 all present, 1 advice",
    details: "Needs BEACON_DATABASE_URL. --json  the report as JSON on stdout",
  },
  export: {
    usage: ["export prometheus-rules [--stalled-after MINUTES] [--output FILE]", "export grafana-dashboard [--output FILE]"],
    summary: "Prometheus recording and burn-rate alert rules for the configured SLOs (YAML),\nor a Grafana dashboard (JSON) for /api/metrics. Needs only SENTINEL_SETTINGS",
    details: "--output FILE              write there instead of stdout\n--stalled-after MINUTES    SentinelStalled fires after this long without a stored tick (default 5)",
  },
};

const COLUMN = 44;

function indented(text: string, pad: number): string[] {
  return text.split("\n").map((l) => `${" ".repeat(pad)}${l}`);
}

/** The overview: every command's usage with its summary. */
export function overview(): string {
  const lines = [`usage: ${CLI} <command> [options]`, `       ${CLI} help <command> | <command> --help | --version`, "", "commands:"];
  for (const help of Object.values(COMMAND_HELP)) {
    const [first, ...more] = help.usage;
    const summary = help.summary.split("\n");
    if (first!.length <= COLUMN - 4 && more.length === 0) {
      lines.push(`  ${first!.padEnd(COLUMN - 2)}${summary[0]}`, ...indented(summary.slice(1).join("\n"), COLUMN).filter((l) => l.trim()));
    } else {
      lines.push(...help.usage.map((u) => `  ${u}`), ...indented(help.summary, COLUMN));
    }
  }
  return `${lines.join("\n")}\n`;
}

/** One command's help. */
export function commandHelp(name: string): string {
  const help = COMMAND_HELP[name]!;
  const lines = [...help.usage.map((u, i) => `${i === 0 ? "usage: " : "       "}${CLI} ${u}`), "", ...help.summary.split("\n")];
  if (help.details) lines.push("", ...help.details.split("\n"));
  return `${lines.join("\n")}\n`;
}
