import { parseArgs } from "node:util";
import { storyList, storyMarkdown, storyText } from "../../shared/alerting/incident-story.ts";
import { redactDeep } from "../../shared/redact.ts";
import { createRuntime } from "../runtime.ts";
import { readStories } from "../incidents.ts";
import { UsageError } from "./errors.ts";

const say = (text: string) => process.stdout.write(`${text}\n`);

/**
 * `beacon-sentinel incidents [list] [--json]` and `beacon-sentinel incidents show <id> [--json | --markdown]`:
 * the incidents the ticks recorded, from the store. (`incident`, singular, flips the sandbox's fault switches.)
 * Exit 0, 1 when the incident is unknown, 64 bad usage.
 */
export async function incidentsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean", default: false }, markdown: { type: "boolean", default: false } } });
  const [action = "list", id, ...extra] = positionals;
  if (!["list", "show"].includes(action) || extra.length || (action === "show" && !id) || (action === "list" && id)) {
    throw new UsageError("expected: incidents [list] [--json], or: incidents show <id> [--json | --markdown]");
  }
  if (values.json && values.markdown) throw new UsageError("--json and --markdown exclude each other");
  if (action === "list" && values.markdown) throw new UsageError("--markdown is for one incident: incidents show <id> --markdown");
  const rt = createRuntime(process.env, { requireBeacon: false });
  try {
    const stories = await readStories(rt);
    if (!stories) throw new UsageError("incidents live in the sentinel's store: set SENTINEL_REDIS_REST_URL");
    if (action === "list") {
      say(values.json ? JSON.stringify(redactDeep({ version: 1, incidents: stories }, rt.redact), null, 2) : rt.redact(storyList(stories)));
      return 0;
    }
    const found = stories.find((s) => s.id === id);
    if (!found) {
      process.stderr.write(`incidents show: no incident ${id} (recorded: ${stories.map((s) => s.id).join(", ") || "none"})\n`);
      return 1;
    }
    const shown = redactDeep(found, rt.redact);
    say(values.json ? JSON.stringify({ version: 1, incident: shown }, null, 2) : values.markdown ? storyMarkdown(shown) : storyText(shown));
    return 0;
  } finally {
    await rt.close();
  }
}
