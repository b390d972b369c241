import { buildStatusDocument, type ProbeInfo } from "../../shared/status/document.ts";
import { lastDays } from "../../shared/status/days-report.ts";
import type { DayIncident, DaySummary, Outcomes } from "../../shared/status/days.ts";
import type { StatusDocument } from "../../shared/status/schema.ts";
import { SentinelState } from "../../shared/tick/state.ts";
import { encodeDocument } from "../../shared/store/codec.ts";

/**
 * A status document with 90 days of history built by hand, every count known, for the page, the API
 * and the CLI to be checked against. Today is 2026-05-01 (the document's day). The runner API (and its
 * check health/runner-health) passes 1440 runs a day except on the days named in RUNNER_API; the
 * queue passes 100 a day except a degraded day; one day is missing altogether.
 */
export const NOW = new Date("2026-05-01T12:00:00.000Z");
export const DAYS = lastDays(NOW.toISOString(), 90);

const PROBES: ProbeInfo[] = [
  { id: "health", title: "Health", stage: "runner-api", schedule: "* * * * *", intervalMs: 60_000 },
  { id: "queue", title: "Queue", stage: "queue", schedule: "* * * * *", intervalMs: 60_000 },
];

export const MISSING_DAY = "2026-02-15";
const FULL: Outcomes = [1440, 0, 0, 0];
/** The runner API's exceptional days and the state each must be drawn in. */
export const RUNNER_API: Record<string, { tally: Outcomes; state: string }> = {
  "2026-03-01": { tally: [0, 0, 0, 1440], state: "error" }, // blind all day: nothing judged
  "2026-04-10": { tally: [1439, 0, 1, 0], state: "warn" }, // one failed run: degraded, not red
  "2026-04-20": { tally: [1420, 0, 20, 0], state: "fail" }, // 98.6%: under 99%
  "2026-04-30": { tally: [1240, 0, 0, 200], state: "error" }, // 13.9% blind
};

export const PAGE_INCIDENT: DayIncident = { id: "7", title: "runner-api: runner-health failing", stage: "runner-api", severity: "page" };
export const TICKET_INCIDENT: DayIncident = { id: "8", title: "queue: queue-depth degraded", stage: "queue", severity: "ticket" };

function summary(day: string): DaySummary {
  const runner = RUNNER_API[day]?.tally ?? FULL;
  const queue: Outcomes = day === "2026-04-25" ? [90, 10, 0, 0] : [100, 0, 0, 0];
  const incidents = [...(day === "2026-04-20" ? [PAGE_INCIDENT] : []), ...(day === "2026-04-25" || day === "2026-04-26" ? [TICKET_INCIDENT] : [])];
  return {
    day,
    stages: { "runner-api": runner, queue },
    checks: { "health/runner-health": runner, "queue/queue-depth": queue },
    slos: {},
    incidents,
    incidentsMore: day === "2026-04-20" ? 2 : 0,
  };
}

/** The document, with `history` (or without it: `days: null`). */
export function historyDocument(days: DaySummary[] | null = DAYS.filter((d) => d !== MISSING_DAY).map(summary)): StatusDocument {
  const doc = buildStatusDocument({ latest: {}, histories: {}, timelines: {}, slos: null, alerts: null, silences: [] }, { now: NOW, probes: PROBES, staleFactor: 2 });
  return days === null ? doc : { ...doc, history: { days } };
}

/** The runner API's runs over the 90 days, by outcome: 85 full days, the four named, the missing one. */
export const RUNNER_API_TOTAL = { pass: 85 * 1440 + 1439 + 1420 + 1240, warn: 0, fail: 21, error: 1440 + 200 };

/**
 * Stores the fixture's days as the tick keeps them, for the routes and the CLI to read back: today in
 * the state (with what a tick published at NOW), the closed days in `past:days`. The status document
 * a view builds from them carries `historyDocument()`'s days.
 */
export async function storeHistory(redis: { set(key: string, value: string): Promise<unknown> }, keys: { state: string; pastDays: string }, days: DaySummary[] = DAYS.filter((d) => d !== MISSING_DAY).map(summary)): Promise<void> {
  const state = SentinelState.parse({ published: { at: NOW.toISOString(), slos: [], silences: [], tickIntervalMs: 60_000 }, today: days.at(-1) });
  await redis.set(keys.state, encodeDocument(state));
  await redis.set(keys.pastDays, encodeDocument({ version: 1, days: days.slice(0, -1) }));
}
