import { BEACON_PLANS, MONTH_MINUTES, NETLIFY, type CostInputs, type CostProjection, TYPICAL_BYTES } from "../../shared/cost/model.ts";
import { scheduleOf, type Config } from "../../shared/config/index.ts";
import { CATALOG } from "../../shared/probes/catalog.ts";
import { databaseEveryMinutesOf } from "../../shared/probes/health/settings.ts";
import { submissionIntervalMinutes } from "../../shared/probes/canary/settings.ts";
import { TICK_SCHEDULE } from "../../netlify/tick.ts";
import { awakeMinutes, type Figure } from "./compare.ts";
import type { MonthCounts } from "./month.ts";

/**
 * The month's counts as the figures `beacon-sentinel cost` prints, each beside the model's, saying
 * what was counted whole and what was counted over part of the month and scaled.
 */

/** The model's inputs for the simulated configuration, as `beacon-sentinel cost --measured` builds them at the month's end. */
export function monthInputs(config: Config, c: MonthCounts, pageRefreshSeconds: number): CostInputs {
  const settings = config.settings;
  return {
    tickSchedule: TICK_SCHEDULE,
    schedules: Object.fromEntries(CATALOG.map((p) => [p.id, scheduleOf(settings, p)])),
    healthUrls: config.healthUrls.length, canaryEnabled: Boolean(config.canarySigningKey), canaryIntervalMinutes: submissionIntervalMinutes(settings.probes.canary, settings.beacon),
    databaseEveryMinutes: databaseEveryMinutesOf(settings.probes.health, settings.beacon),
    pageHoursPerDay: 24, pageRefreshSeconds,
    // The documents as stored now (the CLI's STRLENs), and the run time the tick recorded for its live day.
    stateBytes: c.storage.stateBytes, statusBytes: TYPICAL_BYTES.status, ledgerBytes: c.storage.ledgerBytes, pastSlotsBytes: c.storage.pastSlotsBytes, pastDaysBytes: c.storage.pastDaysBytes,
    ...(c.recorded ? { tickSeconds: c.recorded.meanMs / 1000 } : {}),
    functionMemoryGb: NETLIFY.defaultMemoryGb, deploysPerMonth: 0,
  };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Days 2 to 30 are counted as day 30's last hour, 29 x 24 times. */
const STEADY_HOURS = 29 * 24;

export function monthFigures(c: MonthCounts, p: CostProjection): Figure[] {
  const { day1, lastHour } = c.store;
  const month = (pick: (s: typeof day1) => number) => pick(day1) + STEADY_HOURS * pick(lastHour);
  const scale = MONTH_MINUTES / c.liveMinutes;
  const counted = "day 1 + 696 x day 30's last hour";
  const live = `counted ${c.liveMinutes / 60} h live, x ${scale}`;
  const gb = NETLIFY.defaultMemoryGb;

  const ticks = month((s) => s.ticks);
  const views = month((s) => s.views);
  const tickGbHours = ((mean(c.liveTickMs) / 1000) * ticks * gb) / 3600;
  const viewGbHours = ((mean(c.viewMs) / 1000) * views * gb) / 3600;
  const bandwidth = month((s) => s.servedGzipBytes);
  const credits = (tickGbHours + viewGbHours) * NETLIFY.creditsPerGbHour + (views / 10_000) * NETLIFY.creditsPer10kRequests + (bandwidth / 1024 ** 3) * NETLIFY.creditsPerGb;
  const claims = c.store.claims.commands * scale;
  const neonH = (awakeMinutes(c.live.sqlMinutes, BEACON_PLANS.neonSuspendMinutes, c.liveMinutes) * scale) / 60;
  const runnerH = (awakeMinutes(c.live.httpMinutes, BEACON_PLANS.runnerIdleMinutes, c.liveMinutes) * scale) / 60;
  const b = p.beacon;
  const f = (group: string, name: string, countedValue: number, model: number, basis: string, decimals = 0): Figure => ({ group, name, counted: countedValue, model, basis, decimals });
  return [
    f("Netlify", "invocations, tick", ticks, p.invocations.tick ?? 0, counted),
    f("Netlify", "invocations, status page", views, p.invocations["status-page"] ?? 0, counted),
    f("Netlify", "GB-hours, tick", tickGbHours, p.netlify.gbHours.tick, `mean of the live ticks' wall time x ${ticks.toLocaleString("en-US")}`, 2),
    f("Netlify", "GB-hours, status page", viewGbHours, p.netlify.gbHours.views, `mean of ${c.viewMs.length} views' wall time x ${views.toLocaleString("en-US")}`, 2),
    f("Netlify", "web requests", views, p.netlify.webRequests, counted),
    f("Netlify", "bandwidth, bytes (gzipped)", bandwidth, p.netlify.bandwidthBytes, counted),
    f("Netlify", "credits", credits, p.netlify.creditsTotal, "from the rows above", 1),
    f("Upstash", "commands", month((s) => s.tickCommands + s.viewCommands) + claims, p.storeCommandsPerMonth, `${counted}; claims ${live}`),
    f("Upstash", "commands, ticks and canary claims", month((s) => s.tickCommands) + claims, (p.storeCommands.ticks ?? 0) + (p.storeCommands["canary claims"] ?? 0), `${counted}; claims ${live}`),
    f("Upstash", "commands, status views", month((s) => s.viewCommands), p.storeCommands["status views"] ?? 0, counted),
    f("Upstash", "transfer, bytes", month((s) => s.tickBytes + s.viewBytes) + c.store.claims.bytes * scale, p.storeTransferBytesPerMonth, `${counted}; claims ${live}`),
    f("Upstash", "storage, bytes", c.storage.bytes, p.storeStorageBytes, "every key under the prefix at the month's end"),
    f("Beacon", "SQL statements", c.live.sqlStatements * scale, b.sqlStatements, `${live}, at the database's door`),
    f("Beacon", "SQL connections", c.live.sqlConnections * scale, b.sqlConnections, `${live}, at the database's door`),
    f("Beacon", "Neon awake hours", neonH, b.neonAwakeHours, `${live}, minutes with SQL`, 1),
    f("Beacon", "Neon CU-hours", neonH * BEACON_PLANS.neonMinCu, b.neonCuHours, `${live}, at ${BEACON_PLANS.neonMinCu} CU`, 1),
    f("Beacon", "queue commands", c.live.queue * scale, b.redisCommands, `${live}, at fetch`),
    f("Beacon", "HTTP requests", c.live.http * scale, b.httpRequests, `${live}, at fetch`),
    f("Beacon", "runner awake hours", runnerH, b.runnerAwakeHours, `${live}, minutes with HTTP`, 1),
  ];
}
