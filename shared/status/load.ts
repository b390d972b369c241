import type { Redis } from "@upstash/redis";
import { PROBES } from "../probes/registry.ts";
import { intervalOf } from "../fanin/policy.ts";
import type { Settings } from "../config/index.ts";
import type { Keys } from "../store/keys.ts";
import { buildStatusDocument } from "./document.ts";
import { historyNeeded, readStatusSnapshot, type ProbeInfo } from "./read.ts";
import type { StatusDocument } from "./schema.ts";
import { TIMELINE_MS } from "./timeline.ts";

/** Compact history entries per probe in the document unless asked otherwise. */
export const DEFAULT_HISTORY = 20;

/** Every registered probe, with the interval its schedule implies. */
export function probeInfos(): ProbeInfo[] {
  return PROBES.map((p) => ({ id: p.id, title: p.title, stage: p.stage, schedule: p.schedule, intervalMs: intervalOf(p.schedule) }));
}

export interface LoadStatusOptions {
  redis: Redis;
  keys: Keys;
  settings: Settings;
  now: Date;
  historyCount?: number;
  /** Read a day of history for the timelines (default true); the badge and the metrics do without. */
  timeline?: boolean;
}

/** One store round trip, then the pure build: what every status route and `sentinel status` serve. */
export async function loadStatus(options: LoadStatusOptions): Promise<StatusDocument> {
  const probes = probeInfos();
  const historyCount = options.historyCount ?? DEFAULT_HISTORY;
  const depth = options.timeline === false ? () => historyCount : (p: ProbeInfo) => Math.max(historyCount, historyNeeded(p.intervalMs, TIMELINE_MS));
  const snapshot = await readStatusSnapshot(options.redis, options.keys, probes, depth);
  return buildStatusDocument(snapshot, { now: options.now, probes, staleFactor: options.settings.alerting.staleFactor, historyCount });
}
