import type { Incident } from "./incidents.ts";

/**
 * An incident told for people: as text (`beacon-sentinel incidents show`), as JSON (the CLI's --json
 * and GET /api/incidents/<id>), as a postmortem draft in Markdown (--markdown), and the public summary
 * (SENTINEL_PUBLIC_STATUS=summary: no job ids, no channel keys, no held alerts). Pure.
 *
 * A job's link: Beacon's portal documents no page per job (/work/shared/beacon-contracts.md names none),
 * so a job links to the runner API's `GET /api/v1/jobs/<id>`, through the portal's `/api/*` proxy when
 * BEACON_PORTAL_URL is set, else on BEACON_API_URL.
 */

export interface StoryJob {
  id: string;
  /** `<base>/api/v1/jobs/<id>`, or null when neither BEACON_PORTAL_URL nor BEACON_API_URL is set. */
  url: string | null;
}

export interface IncidentStory extends Omit<Incident, "jobs"> {
  state: "open" | "resolved";
  /** How long it fired (until now while open). */
  durationMs: number;
  jobs: StoryJob[];
  /** Jobs listed plus those counted beyond the list: at least this many were touched. */
  jobsTouched: number;
}

/** The public summary of an incident: what fired and when, and how many jobs it touched; never which. */
export interface PublicIncident {
  id: string;
  state: "open" | "resolved";
  type: Incident["type"];
  stage: string;
  severity: Incident["severity"];
  title: string;
  firedAt: string;
  resolvedAt?: string;
  durationMs: number;
  jobsTouched: number;
  announced: boolean;
}

/** The base a job's link starts with: the portal (its /api proxy), else the runner API. */
export function jobLinkBase(targets: { portalUrl?: string; beaconApiUrl?: string }): string | undefined {
  return (targets.portalUrl ?? targets.beaconApiUrl)?.replace(/\/+$/, "");
}

export function jobUrl(base: string | undefined, id: string): string | null {
  return base ? `${base}/api/v1/jobs/${encodeURIComponent(id)}` : null;
}

export function story(incident: Incident, base: string | undefined, now: Date): IncidentStory {
  const end = incident.resolvedAt ? Date.parse(incident.resolvedAt) : now.getTime();
  return {
    ...incident, state: incident.resolvedAt ? "resolved" : "open", durationMs: Math.max(0, end - Date.parse(incident.firedAt)),
    jobs: incident.jobs.map((id) => ({ id, url: jobUrl(base, id) })), jobsTouched: incident.jobs.length + incident.jobsMore,
  };
}

export function publicIncident(s: IncidentStory): PublicIncident {
  return {
    id: s.id, state: s.state, type: s.type, stage: s.stage, severity: s.severity, title: s.title, firedAt: s.firedAt,
    ...(s.resolvedAt ? { resolvedAt: s.resolvedAt } : {}), durationMs: s.durationMs, jobsTouched: s.jobsTouched, announced: s.sends.some((x) => x.phase === "sent"),
  };
}

/** The root cause in words: "check jobs-stuck-created of probe outbox (stage outbox)". */
export function rootCause(s: Pick<Incident, "type" | "probe" | "check" | "slo" | "stage">): string {
  if (s.type === "check") return `check ${s.check} of probe ${s.probe} (stage ${s.stage})`;
  if (s.type === "slo") return `SLO ${s.slo} burning its error budget`;
  if (s.type === "missing") return `probe ${s.probe} stopped reporting (stage ${s.stage})`;
  return `probe ${s.probe} could not measure (stage ${s.stage})`;
}

export function duration(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  return m >= 120 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
}

type Send = Incident["sends"][number];
/** The channel's key for a send: its own, else the notification's id. */
export const sendKey = (s: Pick<Incident, "key">, x: Send) => x.key ?? `${s.key}@${x.state}@${x.decidedAt}`;

/** Ordered events: fired, each send, resolved. */
function timeline(s: IncidentStory): { at: string; what: string }[] {
  const events = [{ at: s.firedAt, what: `${s.key} started firing (${s.severity})` }];
  for (const x of s.sends) events.push({ at: x.at, what: `${x.state} ${x.phase === "sent" ? "sent to" : `${x.phase} on`} ${x.channel} (key ${sendKey(s, x)})` });
  if (s.resolvedAt) events.push({ at: s.resolvedAt, what: `${s.key} resolved after ${duration(s.durationMs)}` });
  return events.sort((a, b) => a.at.localeCompare(b.at));
}

function jobsHeader(s: IncidentStory): string {
  if (!s.jobsTouched) return "no Beacon job cited by its failing checks";
  return `${s.jobsTouched}${s.jobsMore ? " at least" : ""} Beacon job(s) touched${s.jobsMore ? ` (${s.jobs.length} listed, ${s.jobsMore} more not named)` : ""}`;
}

export function storyText(s: IncidentStory): string {
  const lines = [
    `incident ${s.id}: ${s.title}  [${s.state.toUpperCase()}]`,
    `  root cause  ${rootCause(s)}`,
    `  alert       ${s.key} (${s.type}, severity ${s.severity})`,
    `  fired       ${s.firedAt}`,
    `  resolved    ${s.resolvedAt ?? `not yet (firing for ${duration(s.durationMs)})`}${s.resolvedAt ? ` (lasted ${duration(s.durationMs)})` : ""}`,
  ];
  if (s.silencedBy) lines.push(`  silenced    by ${s.silencedBy}`);
  lines.push(`  held        ${s.held.length ? s.held.join(", ") : "no alert held behind it"}`);
  const sendLine = (x: Send) => `${x.channel}: ${x.state} ${x.phase} at ${x.at} (key ${sendKey(s, x)})`;
  lines.push(`  sent        ${s.sends.length ? sendLine(s.sends[0]!) : "nothing (no channel was routed it)"}`);
  for (const x of s.sends.slice(1)) lines.push(`              ${sendLine(x)}`);
  lines.push(`  jobs        ${jobsHeader(s)}`);
  for (const j of s.jobs) lines.push(`              ${j.id}${j.url ? `  ${j.url}` : ""}`);
  return lines.join("\n");
}

export function storyList(stories: IncidentStory[]): string {
  if (!stories.length) return "no incidents recorded";
  return stories.map((s) => `${s.id.padStart(4)}  ${s.state === "open" ? "OPEN    " : "resolved"}  ${s.severity.padEnd(7)} ${s.firedAt}  ${duration(s.durationMs).padStart(9)}  ${String(s.jobsTouched).padStart(3)} job(s)  ${s.key}`).join("\n");
}

/** A postmortem draft: summary, timeline, jobs touched, and the sections people write. */
export function storyMarkdown(s: IncidentStory): string {
  const cell = (v: string) => v.replace(/\|/g, "\\|");
  const out = [
    `# Incident ${s.id}: ${s.title}`,
    "",
    `*Postmortem draft written by Beacon Sentinel from its ledger; ${s.state === "open" ? "the incident is still open" : "the incident is resolved"}.*`,
    "",
    "## Summary",
    "",
    "| | |",
    "|---|---|",
    `| Root cause (as detected) | ${cell(rootCause(s))} |`,
    `| Alert | \`${s.key}\` |`,
    `| Severity | ${s.severity} |`,
    `| Fired | ${s.firedAt} |`,
    `| Resolved | ${s.resolvedAt ?? "not yet"} |`,
    `| Duration | ${duration(s.durationMs)}${s.state === "open" ? " so far" : ""} |`,
    `| Beacon jobs touched | ${s.jobsTouched}${s.jobsMore ? " (at least)" : ""} |`,
    `| Channels told | ${[...new Set(s.sends.map((x) => x.channel))].join(", ") || "none"} |`,
    ...(s.silencedBy ? [`| Silenced by | ${s.silencedBy} |`] : []),
    "",
    "## Timeline (UTC)",
    "",
    ...timeline(s).map((e) => `- **${e.at}** ${e.what}`),
    "",
    "## Alerts held behind it",
    "",
    ...(s.held.length ? s.held.map((k) => `- \`${k}\``) : ["None: no other alert was held behind this one."]),
    "",
    "## Beacon jobs touched",
    "",
    ...(s.jobs.length ? s.jobs.map((j) => `- ${j.url ? `[${j.id}](${j.url})` : `\`${j.id}\``}`) : ["None cited by the failing checks."]),
    ...(s.jobs.some((j) => j.url) ? ["", "_Each links to the runner API's `GET /api/v1/jobs/<id>` (through the portal's `/api` proxy when one is configured): the portal documents no page per job._"] : []),
    ...(s.jobsMore ? ["", `…and at least ${s.jobsMore} more the checks did not name.`] : []),
    "",
    "## What happened",
    "",
    "_To be written._",
    "",
    "## Action items",
    "",
    "- [ ] _To be written._",
    "",
  ];
  return out.join("\n");
}
