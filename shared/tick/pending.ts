import type { Notification } from "../alerting/notification.ts";

/**
 * Keeps the pending queue bounded without losing anything silently. Over `cap`, first what has lost its point:
 * an alert that fired and resolved before either was delivered is dropped as a pair (nobody was told
 * it fired, so no resolution is owed), and only an alert's latest pending reminder is kept. If more
 * than `cap` remain, the oldest overflow is folded into one summary notification that names each
 * alert and says how many were folded.
 */
export function collapsePending(list: Notification[], cap: number, now: Date): { pending: Notification[]; collapsed: number } {
  if (list.length <= cap) return { pending: list, collapsed: 0 };
  const lastIndex = new Map<string, number>();
  list.forEach((n, i) => lastIndex.set(`${n.alertKey}|${n.kind}`, i));
  // A pair is pointless only for the channels owed both: a channel that already got the firing one is owed the resolution.
  const owedBoth = (key: string) => {
    const firing = list.find((n) => n.kind === "firing" && n.alertKey === key);
    const resolved = list.find((n) => n.kind === "resolved" && n.alertKey === key);
    if (!firing || !resolved) return false;
    return (resolved.channels ?? []).every((c) => firing.channels === undefined || firing.channels.includes(c));
  };
  const kept = list.filter((n, i) => {
    if ((n.kind === "firing" || n.kind === "resolved") && owedBoth(n.alertKey)) return false;
    if (n.kind === "reminder") return lastIndex.get(`${n.alertKey}|reminder`) === i;
    return true;
  });
  if (kept.length <= cap) return { pending: kept, collapsed: list.length - kept.length };
  const overflow = kept.slice(0, kept.length - cap + 1);
  const summary: Notification = {
    id: `collapsed/${now.toISOString()}/${overflow.length}`,
    kind: overflow.some((n) => n.kind === "firing") ? "firing" : overflow.some((n) => n.kind === "reminder") ? "reminder" : "resolved",
    alertKey: "sentinel/collapsed",
    alertType: "check",
    stage: "sentinel",
    severity: overflow.some((n) => n.severity === "page") ? "page" : overflow.some((n) => n.severity === "ticket") ? "ticket" : "warning",
    title: `${overflow.length} older notifications, folded into one`,
    message: `${overflow.length} notifications waited too long to be delivered (at most ${cap} are kept); see the status page for what is firing now`,
    observed: overflow.length,
    threshold: `<= ${cap} pending`,
    evidence: overflow.slice(0, 10).map((n) => `${n.alertKey}: ${n.kind} since ${n.since}`),
    evidenceTotal: overflow.length,
    since: overflow[0]!.since,
    ...(overflow.every((n) => n.channels) ? { channels: [...new Set(overflow.flatMap((n) => n.channels ?? []))] } : {}),
  };
  return { pending: [summary, ...kept.slice(overflow.length)], collapsed: list.length - kept.length + overflow.length };
}
