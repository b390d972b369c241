import type { ProbeResult } from "../../shared/result.ts";

/**
 * What `npm start` prints: one readable line per probe run, one summary line per tick, and the
 * functions' own JSON log lines made readable (`--json` keeps everything as JSON). Pure formatting,
 * apart from `filterLines`, which rewrites a stream's lines as they are written.
 */

/** The parts of a tick's report (the tick function's answer) that the lines need. */
export interface TickAnswer {
  results: ProbeResult[];
  firing?: { key: string; heldBy?: string }[];
  notifications?: unknown[];
  delivered?: number;
  unsent?: number;
  skipped?: string;
  lost?: number;
  storeCommands?: number;
}

const WORD: Record<string, string> = { pass: "pass", warn: "WARN", fail: "FAIL", error: "BLIND" };

/**
 * "[12:00:01] canary   FAIL  305 ms  stage:outbox: 31 s in created: no outbox row (+1 more failing; 7 not reached)".
 * The first check that did not pass speaks; the rest are counted. A check that could not measure
 * behind a failed one (the canary's later stages) is "not reached", not a problem of its own.
 */
export function probeLine(r: ProbeResult, time: string): string {
  const head = `[${time}] ${r.probe.padEnd(8)} ${(WORD[r.status] ?? r.status).padEnd(5)} ${String(r.durationMs).padStart(5)} ms`;
  if (r.error) return `${head}  ${oneLine(r.error)}`;
  const rank = { fail: 0, warn: 1, error: 2, pass: 3 } as const;
  const bad = r.checks.filter((c) => c.status !== "pass").sort((a, b) => rank[a.status] - rank[b.status]);
  if (!bad.length) return head;
  const [first, ...rest] = bad;
  const failed = bad.some((c) => c.status === "fail");
  const notReached = failed ? rest.filter((c) => c.status === "error").length : 0;
  const others = rest.length - notReached;
  const more = [others ? `+${others} more not passing` : "", notReached ? `${notReached} not reached` : ""].filter(Boolean).join("; ");
  return `${head}  ${first!.name}: ${oneLine(first!.message)}${more ? ` (${more})` : ""}`;
}

/** "[12:00:01] tick: pass health, queue · FAIL canary · firing: check/canary/stage:outbox · store 4 commands" */
export function tickLine(name: string, a: TickAnswer, time: string): string {
  if (a.skipped) return `[${time}] ${name}: skipped (${a.skipped})`;
  const by = new Map<string, string[]>();
  for (const r of a.results) by.set(WORD[r.status] ?? r.status, [...(by.get(WORD[r.status] ?? r.status) ?? []), r.probe]);
  const probes = ["pass", "WARN", "BLIND", "FAIL"].filter((w) => by.has(w)).map((w) => `${w} ${by.get(w)!.join(", ")}`).join(" · ") || "no probe due";
  const loud = (a.firing ?? []).filter((f) => !f.heldBy).map((f) => f.key);
  const held = (a.firing ?? []).length - loud.length;
  const firing = loud.length ? `firing: ${loud.join(", ")}${held ? ` (+${held} held)` : ""}` : held ? `${held} firing, all held` : "nothing firing";
  // Deliveries count once per message and channel: four channels given one message are four, not "4 to Slack".
  const sent = a.unsent ? ` · ${a.unsent} alert message(s) logged, not sent (no channel configured, or no route sends them to one)`
    : a.notifications?.length || a.delivered ? ` · ${a.notifications?.length ?? 0} alert message(s) decided, ${a.delivered ?? 0} ${a.delivered === 1 ? "delivery" : "deliveries"} made (one per message and channel)` : "";
  const lost = a.lost ? ` · ${a.lost} result(s) NOT stored` : "";
  const store = a.storeCommands === undefined ? "" : ` · store ${a.storeCommands} commands`;
  return `[${time}] ${name}: ${probes} · ${firing}${sent}${lost}${store}`;
}

/**
 * A function's JSON log line as a readable one, or null to drop it. "tick finished" repeats the tick
 * line; other lines keep their level, message and fields.
 */
export function readableLog(line: string, time: string): string | null {
  if (!line.startsWith("{")) return line;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return line;
  }
  const o = parsed as Record<string, unknown>;
  if (typeof o.level !== "string" || typeof o.message !== "string") return line;
  if (o.message === "tick finished") return null;
  const { level, message, ...fields } = o;
  const rest = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
  const text = `[${time}] ${level === "info" ? "log" : level.toUpperCase()}: ${message}${rest ? ` (${rest})` : ""}`;
  return text.length > 400 ? `${text.slice(0, 397)}...` : text;
}

/** Rewrites each complete line written to `stream` (null drops it). Returns the function that undoes it. */
export function filterLines(stream: NodeJS.WriteStream, transform: (line: string) => string | null): () => void {
  const original = stream.write;
  let partial = "";
  stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...args: unknown[]) {
    const text = partial + (typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
    const lines = text.split("\n");
    partial = lines.pop() ?? "";
    const out = lines.flatMap((l) => {
      const t = transform(l);
      return t === null ? [] : [`${t}\n`];
    }).join("");
    const done = args.find((a) => typeof a === "function") as (() => void) | undefined;
    if (!out) {
      done?.();
      return true;
    }
    return original.call(this, out, done as never);
  } as typeof stream.write;
  return () => {
    stream.write = original;
  };
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 220 ? `${flat.slice(0, 217)}...` : flat;
}
