import { MEMORY_LOST_KEY } from "../../alerting/ledger.ts";
import type { Notification } from "../../alerting/notification.ts";

/**
 * Turns the notifications of one evaluation into ONE Slack message (Block Kit plus a plain `text`
 * fallback for push notifications and screen readers). Pure: time comes in as `now`.
 *
 * Every string from a notification is treated as untrusted (evidence and messages come from probed
 * systems): it is redacted first (so a clipped secret cannot leak half of itself), then clipped,
 * then escaped for mrkdwn (`&`, `<`, `>`), which also stops `<!channel>`-style mentions and links.
 */

/** Slack's limits for one message. */
export const SLACK_MAX_BLOCKS = 50;
export const SLACK_MAX_SECTION_CHARS = 3000;
/** Evidence items shown per notification; the rest is counted from `evidenceTotal`. */
export const EVIDENCE_SHOWN = 5;

export interface SlackMessage {
  /** Plain summary: the push-notification and accessibility fallback. */
  text: string;
  blocks: unknown[];
}

export interface BuildSlackMessageOptions {
  /** Public status page, linked from the footer when set. */
  statusUrl?: string;
  /** Evaluation time: "14 min ago", the footer timestamp, durations of resolved items without `durationMs`. */
  now: Date;
  /** Applied to every string before it is rendered. */
  redact?: (s: string) => string;
}

const KIND_ORDER = { firing: 0, reminder: 1, resolved: 2 } as const;
const SEVERITY_ORDER = { page: 0, ticket: 1, warning: 2 } as const;
const LABEL = { firing: "FIRING", reminder: "STILL FIRING", resolved: "RESOLVED" } as const;
const FIRING_EMOJI = { page: ":rotating_light:", ticket: ":red_circle:", warning: ":warning:" } as const;
const WHAT = { check: "check", missing: "probe missing", blind: "probe blind", slo: "SLO" } as const;
/** Lines of the `text` fallback before it says "and N more". */
const TEXT_LINES = 10;

/** Groups notifications into one message: firing before reminders before resolved, pages first. */
export function buildSlackMessage(notifications: Notification[], options: BuildSlackMessageOptions): SlackMessage {
  if (notifications.length === 0) throw new RangeError("buildSlackMessage needs at least one notification");
  const r = options.redact ?? ((s: string) => s);
  const fmt: Fmt = {
    // redact, then clip, then escape: the order matters (see the module comment)
    esc: (s, max) => escapeMrkdwn(clip(r(s), max)),
    code: (s, max) => "`" + escapeMrkdwn(clip(r(s), max)).replace(/`/g, "ˋ").replace(/\s*\n\s*/g, " ") + "`",
    now: options.now,
  };
  const sorted = notifications
    .map((n, i) => ({ n, i }))
    .sort((a, b) => KIND_ORDER[a.n.kind] - KIND_ORDER[b.n.kind] || SEVERITY_ORDER[a.n.severity] - SEVERITY_ORDER[b.n.severity] || a.i - b.i)
    .map(({ n }) => n);

  const headline = `Beacon Sentinel: ${countsByKind(sorted)}`;
  const anyFiring = sorted.some((n) => n.kind !== "resolved");
  const header = { type: "header", text: { type: "plain_text", text: `${anyFiring ? ":red_circle:" : ":white_check_mark:"} ${headline}`, emoji: true } };

  const footerParts = [`Evaluated ${formatUtc(options.now)}`];
  if (options.statusUrl) footerParts.unshift(`<${escapeMrkdwn(r(options.statusUrl)).replace(/\|/g, "%7C")}|Status page>`);
  const footer = { type: "context", elements: [{ type: "mrkdwn", text: footerParts.join(" · ") }] };

  const room = SLACK_MAX_BLOCKS - 2; // header and footer
  const shown = sorted.length <= room ? sorted : sorted.slice(0, room - 1); // keep one block for the overflow
  const rest = sorted.slice(shown.length);
  const blocks: unknown[] = [header, ...shown.map((n) => section(notificationText(n, fmt)))];
  if (rest.length > 0) blocks.push(section(overflowText(rest, fmt)));
  blocks.push(footer);

  const lines = sorted.slice(0, TEXT_LINES).map((n) => `• ${summaryLine(n, fmt)}`);
  if (sorted.length > TEXT_LINES) lines.push(`…and ${sorted.length - TEXT_LINES} more`);
  if (options.statusUrl) lines.push(`Status page: ${escapeMrkdwn(r(options.statusUrl))}`);
  return { text: [headline, ...lines].join("\n"), blocks };
}

interface Fmt {
  /** Redacted, clipped to `max` characters, escaped. */
  esc(s: string, max: number): string;
  /** The same, as one-line inline code. */
  code(s: string, max: number): string;
  now: Date;
}

function notificationText(n: Notification, fmt: Fmt): string {
  const emoji = n.kind === "resolved" ? ":white_check_mark:" : FIRING_EMOJI[n.severity];
  const lines = [`${emoji} *${labelOf(n)}* · ${n.severity} · *${oneLine(fmt.esc(n.title, 150))}*`];
  lines.push(`Stage ${fmt.code(n.stage, 80)} · ${WHAT[n.alertType]} ${fmt.code(subject(n), 160)}`);
  if (n.message) lines.push(fmt.esc(n.message, 600));
  lines.push(`Observed ${fmt.code(scalar(n.observed), 100)} · threshold ${fmt.code(scalar(n.threshold), 100)}`);
  if (n.budget) lines.push(budgetLine(n.budget, fmt));
  lines.push(...evidenceLines(n, fmt));
  // One fault, one page: what is held behind this root cause, listed here instead of paging alone.
  if (n.affected?.length) {
    const shown = n.affected.slice(0, EVIDENCE_SHOWN).map((a) => fmt.esc(a, 120)).join("; ");
    const more = n.affected.length > EVIDENCE_SHOWN ? ` …and ${n.affected.length - EVIDENCE_SHOWN} more` : "";
    lines.push(`${n.kind === "resolved" ? "Resolved with it" : "Also affected (held behind this)"}: ${shown}${more}`);
  }
  lines.push(timeLine(n, fmt));
  if (n.nextStep) lines.push(`Next step: ${nextStep(n.nextStep, fmt)}`);
  return lines.join("\n");
}

function subject(n: Notification): string {
  if (n.alertType === "slo") return n.slo ?? n.alertKey;
  if (n.alertType === "check") return n.probe && n.check ? `${n.probe}/${n.check}` : (n.check ?? n.alertKey);
  return n.probe ?? n.alertKey;
}

function budgetLine(b: NonNullable<Notification["budget"]>, fmt: Fmt): string {
  const burn = b.burnRate === null ? "n/a" : `${b.burnRate.toFixed(1)}x`;
  let left = "budget remaining unknown";
  if (b.remaining !== null) {
    const pct = (r: number) => `${(r * 100).toFixed(1)}%`;
    const minutes = b.remainingMinutes === null ? "" : ` (${formatDuration(Math.max(0, b.remainingMinutes) * 60_000)})`;
    // Never a negative percentage: an overspent budget says by how much.
    left = b.remaining < 0 ? `budget exhausted, overspent by *${pct(-b.remaining)}*` : b.remaining === 0 ? "budget exhausted" : `*${pct(b.remaining)}* of the error budget left${minutes}`;
  }
  return `Burn rate *${burn}* over ${fmt.esc(b.windows, 100)} · ${left}`;
}

function evidenceLines(n: Notification, fmt: Fmt): string[] {
  const total = Math.max(n.evidenceTotal, n.evidence.length);
  if (total === 0) return [];
  const items = n.evidence.slice(0, EVIDENCE_SHOWN);
  if (items.length === 0) return [`Evidence: ${total} item${total === 1 ? "" : "s"}, none attached`];
  const lines = [`Evidence (${items.length} of ${total}):`, ...items.map((e) => `• ${fmt.code(e, 200)}`)];
  if (total > items.length) lines.push(`_…and ${total - items.length} more_`);
  return lines;
}

/** The sentinel's note that its memory was rebuilt is no alert: it says NOTE, never STILL FIRING. */
function labelOf(n: Notification): string {
  return n.alertKey === MEMORY_LOST_KEY ? "NOTE" : LABEL[n.kind];
}

function timeLine(n: Notification, fmt: Fmt): string {
  if (n.alertKey === MEMORY_LOST_KEY) return `At ${fmt.esc(n.since, 40)}`;
  const since = new Date(n.since);
  if (Number.isNaN(since.getTime())) {
    const raw = fmt.esc(n.since, 40);
    if (n.kind === "resolved") return n.durationMs === undefined ? `Resolved (since ${raw})` : `Resolved, lasted ${formatDuration(n.durationMs)} (since ${raw})`;
    return `${n.kind === "reminder" ? "Still firing since" : "Since"} ${raw}`;
  }
  const sinceText = formatUtc(since);
  const elapsed = formatDuration(Math.max(0, fmt.now.getTime() - since.getTime()));
  if (n.kind === "resolved") return `Resolved, lasted ${n.durationMs === undefined ? elapsed : formatDuration(n.durationMs)} (since ${sinceText})`;
  if (n.kind === "reminder") return `Still firing since ${sinceText} (${elapsed})`;
  return `Since ${sinceText} (${elapsed} ago)`;
}

/** A bare command becomes a code span; text that already marks its commands with backticks stays as written. */
function nextStep(step: string, fmt: Fmt): string {
  return step.includes("`") ? fmt.esc(step, 500) : fmt.code(step, 500);
}

function summaryLine(n: Notification, fmt: Fmt): string {
  const base = `${labelOf(n)} [${n.severity}] ${oneLine(fmt.esc(n.title, 150))} (${oneLine(fmt.esc(n.stage, 80))})`;
  if (n.kind === "resolved" && n.durationMs !== undefined) return `${base}, lasted ${formatDuration(n.durationMs)}`;
  return base;
}

function overflowText(rest: Notification[], fmt: Fmt): string {
  let text = `*…and ${rest.length} more not shown* (${countsByKind(rest)}):`;
  for (const [i, n] of rest.entries()) {
    const line = `\n• ${summaryLine(n, fmt)}`;
    const tail = `\n• …${rest.length - i} more`;
    if (text.length + line.length + tail.length > SLACK_MAX_SECTION_CHARS) return text + tail;
    text += line;
  }
  return text;
}

function countsByKind(ns: Notification[]): string {
  const names = { firing: "firing", reminder: "still firing", resolved: "resolved" } as const;
  return (["firing", "reminder", "resolved"] as const)
    .map((k) => [k, ns.filter((n) => n.kind === k).length] as const)
    .filter(([, c]) => c > 0)
    .map(([k, c]) => `${c} ${names[k]}`)
    .join(", ");
}

function section(text: string): unknown {
  return { type: "section", text: { type: "mrkdwn", text: fitSection(text) } };
}

/** Cuts at Slack's section limit without leaving half an `&amp;` entity or half a surrogate pair. */
function fitSection(text: string): string {
  if (text.length <= SLACK_MAX_SECTION_CHARS) return text;
  let cut = text.slice(0, SLACK_MAX_SECTION_CHARS - 1).replace(/&[a-z]{0,3}$/, "");
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + "…";
}

/** Slack's mrkdwn control characters; everything else is shown as typed. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + "…";
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ");
}

function scalar(v: Notification["observed"]): string {
  if (v === null) return "n/a";
  // ratios keep three significant digits (0.0144), larger numbers three decimals
  if (typeof v === "number" && !Number.isInteger(v)) return String(Math.abs(v) < 1 ? Number(v.toPrecision(3)) : Math.round(v * 1000) / 1000);
  return String(v);
}

/** "2025-11-23 23:40 UTC". */
export function formatUtc(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** "45 s", "14 min", "2 h 5 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}
