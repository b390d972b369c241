import type { ProbeResult } from "../result.ts";
import type { AnyProbe } from "../probes/types.ts";
import type { Measurement } from "../runner.ts";
import { dueProbes, missedRuns } from "../schedule.ts";
import { GAPS_KEEP, type SentinelState } from "./state.ts";
import type { TickDeps } from "./types.ts";

/** A probe this tick runs, and the scheduled slot it serves (none for a manual run). */
export interface DueProbe {
  probe: AnyProbe;
  slot?: string;
}

/** What one probe run measured, with the probe and the slot it served. */
export type Measured = Measurement & DueProbe;

export type CollectDeps = Pick<TickDeps, "probes" | "infos" | "measure" | "log" | "settings"> & Partial<Pick<TickDeps, "channels">>;

/** What the tick keeps after its probes for judging, deciding and writing, when the settings do not say (TickSettings.writeReserveMs). */
export const WRITE_RESERVE_MS = 3_000;

export interface CollectInput {
  /** The tick's memory: each probe's last slot and kept state are read; a gap is recorded in `monitoring`. */
  state: SentinelState;
  /** Run exactly these probes now (a manual run), instead of the ones due. */
  only?: string[];
  /** Of the probes due, run only these (TickOptions.dueOnly); the others are left to their own functions. */
  dueOnly?: string[];
  /** Whether this run sends (default true): one that does not keeps no time for the send. */
  sends?: boolean;
  now: Date;
  /** What is left of the tick's budget, ms. */
  remainingMs: number;
}

/**
 * Collect: the probes due now, each on its own cadence, run in parallel, each within its own deadline:
 * its timeout, at most `probeBudgetMs`, and never past what the tick keeps for the rest (the send's
 * whole budget when a channel is configured, and `writeReserveMs` to decide and write), so a slow probe
 * becomes that probe's `error` and the send keeps its time. The first tick after a stretch without one
 * also records the runs that stretch missed.
 */
export async function collect(deps: CollectDeps, input: CollectInput): Promise<Measured[]> {
  const { state, now } = input;
  const due = dueNow(deps, state, input.only, now);
  // A gap counts every probe due now as served, also those left to their own functions this minute.
  noteGap(deps, state, now, due);
  const run = ofOwn(due, input.dueOnly);
  const reserve = (input.sends !== false && deps.channels?.length ? deps.settings.sendBudgetMs : 0) + (deps.settings.writeReserveMs ?? WRITE_RESERVE_MS);
  const budget = Math.max(1_000, Math.min(deps.settings.probeBudgetMs, input.remainingMs - reserve));
  return Promise.all(run.map(async ({ probe, slot }) => ({ slot, probe, ...(await deps.measure(probe, state.probes[probe.id]?.state, budget, slot === undefined)) })));
}

/**
 * Collect without memory, for a tick that could not read the store: only the probes whose slot came
 * this minute, from a fresh memory. The caller writes every result whole to the log, so nothing
 * measured is lost; the next tick that reaches the store records the gap.
 */
export async function collectBlind(deps: CollectDeps, input: Omit<CollectInput, "state">): Promise<ProbeResult[]> {
  const { now } = input;
  const due = ofOwn(dueNow(deps, { probes: {} } as SentinelState, input.only, now), input.dueOnly).filter((d) => !d.slot || Date.parse(d.slot) > now.getTime() - deps.settings.tickIntervalMs);
  const budget = Math.max(1_000, Math.min(deps.settings.probeBudgetMs, input.remainingMs - 1_000));
  return (await Promise.all(due.map(({ probe, slot }) => deps.measure(probe, undefined, budget, slot === undefined)))).map((m) => m.result);
}

/** The due probes this run takes (`dueOnly`), or all of them. */
function ofOwn(due: DueProbe[], dueOnly: string[] | undefined): DueProbe[] {
  return dueOnly ? due.filter((d) => dueOnly.includes(d.probe.id)) : due;
}

/** The named probes (a manual run), or those with a slot of their cadence since the one they last ran for. */
export function dueNow(deps: Pick<TickDeps, "probes" | "infos">, state: SentinelState, only: string[] | undefined, now: Date): DueProbe[] {
  const byId = new Map(deps.probes.map((p) => [p.id, p]));
  if (only) return only.map((id) => ({ probe: byId.get(id)! })).filter((x) => x.probe);
  const lastSlots = Object.fromEntries(Object.entries(state.probes).map(([id, m]) => [id, m.lastSlot]));
  return dueProbes(deps.infos, lastSlots, now).flatMap(({ id, slot }) => (byId.has(id) ? [{ probe: byId.get(id)!, slot }] : []));
}

/**
 * A stretch longer than this many tick intervals since the last stored evaluation is a gap: one missed
 * tick (a one-minute store outage) already is, while a scheduler firing a few seconds late is not.
 */
export const GAP_FACTOR = 1.5;

/** The first tick after a stretch without one records how many probe runs that stretch missed. */
function noteGap(deps: Pick<TickDeps, "infos" | "log" | "settings">, state: SentinelState, now: Date, due: DueProbe[]) {
  const last = state.monitoring.lastTickAt;
  if (!last || now.getTime() - Date.parse(last) <= GAP_FACTOR * deps.settings.tickIntervalMs) return;
  const missed = deps.infos.reduce((n, p) => n + missedRuns(p.schedule, new Date(last), now), 0) - due.filter((d) => d.slot).length;
  state.monitoring.lostResults += Math.max(0, missed);
  state.monitoring.gaps = [...state.monitoring.gaps, { from: last, to: now.toISOString(), missedRuns: Math.max(0, missed) }].slice(-GAPS_KEEP);
  deps.log.warn("no stored evaluation for a while: probe runs were missed", { from: last, to: now.toISOString(), missedRuns: missed });
}
