import { SEND_EXTRA_COMMANDS, TICK_COMMANDS } from "../cost/model.ts";
import { randomUUID } from "node:crypto";
import type { ProbeResult } from "../result.ts";
import type { AnyProbe } from "../probes/types.ts";
import type { Measurement } from "../runner.ts";
import type { Logger } from "../log.ts";
import type { Notification } from "../alerting/notification.ts";
import type { AlertRecord } from "../alerting/state.ts";
import type { SloStatus } from "../slo/evaluate.ts";
import { decide, type FanInPolicy } from "../fanin/evaluate.ts";
import type { TickStore } from "./store.ts";
import { buildStatusDocument, type ProbeInfo } from "../status/document.ts";
import type { StatusDocument } from "../status/schema.ts";
import { RegionsSection } from "../probes/regions/definition.ts";
import { dueProbes, missedRuns } from "../schedule.ts";
import { GAPS_KEEP, ProbeMemory, remember, type SentinelState } from "./state.ts";
import { collapsePending } from "./pending.ts";
import type { Channel } from "../channels/types.ts";
import type { Route } from "../channels/routes.ts";
import { assignChannels, deliverAll, firingFor, settle } from "../channels/dispatch.ts";

/**
 * One tick: the sentinel's whole scheduled work in one invocation. It reads its memory (1 round
 * trip), runs the probes that are due in parallel, evaluates SLOs and alerts with the results in
 * hand, writes its memory and the status document (1 round trip), then sends what it decided.
 * Manual runs go through here too, naming the probes to run, so every result is judged the same way.
 */

export interface TickDeps {
  store: TickStore;
  probes: readonly AnyProbe[];
  /** Each probe's cadence, width, and what the status document shows of it. */
  infos: ProbeInfo[];
  /** Runs one probe with its previous state inside `timeoutMs` (shared/runner.ts measure). */
  measure(probe: AnyProbe, previousState: unknown, timeoutMs: number): Promise<Measurement>;
  policy: FanInPolicy;
  now(): Date;
  log: Logger;
  /** The configured channels (shared/channels); empty: decisions are logged only. */
  channels: Channel[];
  /** Which notifications each channel is owed (SENTINEL_SETTINGS.routes). */
  routes: readonly Route[];
  settings: {
    budgetMs: number;
    probeBudgetMs: number;
    pendingCap: number;
    staleFactor: number;
    /** The time a send may take: channels are sent in parallel, each within this. */
    sendBudgetMs: number;
    /** The tick's own cadence, for gap detection and the status page's "next evaluation by". */
    tickIntervalMs: number;
  };
}

export interface TickOptions {
  /** Run exactly these probes now (a manual run), instead of the ones due. */
  probes?: string[];
  /** Write and send. Without it the tick is a read-only preview: it runs what is asked and stores nothing. */
  write: boolean;
  /** A manual run waits this long for a tick in progress (default 0: skip). */
  lockWaitMs?: number;
}

export interface TickReport {
  /** Why the tick did not evaluate, for people. */
  skipped?: string;
  /** The same, for code: another tick held the lock, or the store could not be read. */
  skipReason?: "locked" | "store-unreachable";
  /** Results of the probes this tick ran, in run order. */
  results: ProbeResult[];
  /** The results could not be stored: they were written whole to the function log instead. */
  lost: number;
  slos: SloStatus[];
  firing: AlertRecord[];
  /** Decided this tick (previews: would be decided). */
  notifications: Notification[];
  /** Deliveries this tick (one per notification and channel), including ones left pending by earlier ticks. */
  delivered: number;
  pending: number;
  /** Notifications no configured channel is routed: logged, not sent. */
  unsent: number;
  /** Store commands this tick spent, as `sentinel cost` counts them (shared/cost/model.ts); absent when it stored nothing. */
  storeCommands?: number;
  status?: StatusDocument;
}

const LOCK_MS = 30_000;

export async function runTick(deps: TickDeps, options: TickOptions): Promise<TickReport> {
  const started = deps.now();
  const elapsed = () => deps.now().getTime() - started.getTime();
  const remaining = () => deps.settings.budgetMs - elapsed();
  const token = randomUUID();
  const empty: TickReport = { results: [], lost: 0, slos: [], firing: [], notifications: [], delivered: 0, pending: 0, unsent: 0 };

  let read;
  try {
    read = options.write ? await begin(deps, token, options.lockWaitMs ?? 0) : await deps.store.peek();
  } catch (error) {
    return measureBlind(deps, options, started, error);
  }
  if (!read.locked) return { ...empty, skipped: "another tick holds the lock", skipReason: "locked" };
  if (read.damaged) deps.log.error("the stored tick state was unreadable; starting from a fresh one", {});

  try {
    const state = read.state;
    const due = selectProbes(deps, state, options, started);
    noteGap(deps, state, started, due);

    const budget = Math.max(1_000, Math.min(deps.settings.probeBudgetMs, remaining() - 4_000));
    const measured = await Promise.all(due.map(async ({ probe, slot }) => ({ slot, probe, ...(await deps.measure(probe, state.probes[probe.id]?.state, budget)) })));
    const results = measured.map((m) => m.result);
    const nowMs = deps.now().getTime();
    for (const m of measured) {
      const memory = remember(state.probes[m.probe.id] ?? ProbeMemory.parse({}), m.result, m.state, nowMs);
      if (m.slot) memory.lastSlot = m.slot;
      state.probes[m.probe.id] = memory;
    }

    const decision = decide({ results, counters: state.counters, state: state.alerts, silences: read.silences }, deps.policy, started);
    for (const [source, ops] of Object.entries(decision.increments)) {
      const hash = (state.counters[source] ??= {});
      for (const [field, by] of ops) hash[field] = (hash[field] ?? 0) + by;
    }
    for (const [source, fields] of Object.entries(decision.prune)) for (const f of fields) delete state.counters[source]?.[f];
    for (const [source, hash] of Object.entries(state.counters)) if (Object.keys(hash).length === 0) delete state.counters[source];
    countSloEvents(state, decision.slos, results);
    state.alerts = decision.state;
    const configured = deps.channels.map((c) => c.name);
    const routed = assignChannels([...state.alerts.pending, ...decision.notifications], deps.routes, configured);
    const queued = collapsePending(routed, deps.settings.pendingCap, started);
    state.alerts.pending = queued.pending;
    state.monitoring.collapsedNotifications += queued.collapsed;
    state.monitoring.lastTickAt = started.toISOString();
    state.monitoring.ticks += 1;

    const report = (status: StatusDocument, delivered = 0, unsent = 0): TickReport => ({
      results, lost: 0, slos: decision.slos, notifications: decision.notifications, delivered, unsent, status,
      pending: state.alerts.pending.length, firing: Object.values(state.alerts.alerts).filter((a) => a.firing),
    });
    const statusOf = () => buildStatus(deps, state, read.silences, decision.slos, started);
    if (!options.write) return report(statusOf());

    // A tick that overran its lock must not overwrite the memory of the tick that took it since.
    if (elapsed() > LOCK_MS - 2_000) {
      deps.log.error("tick overran its lock; results not stored", { elapsedMs: elapsed(), results });
      return { ...report(statusOf()), lost: results.length };
    }
    let unsent = 0;
    const unrouted = state.alerts.pending.filter((n) => !n.channels?.length);
    if (unrouted.length > 0) {
      // Nothing to send with: say so once, and do not pile them up.
      deps.log.info(deps.channels.length ? "notifications decided, no route sends them to a configured channel" : "notifications decided, no channel configured", { count: unrouted.length, keys: unrouted.map((n) => n.alertKey) });
      unsent = unrouted.length;
      state.alerts.pending = state.alerts.pending.filter((n) => n.channels?.length);
    }
    const pending = state.alerts.pending;
    const alerts = Object.values(state.alerts.alerts);
    const firing = (c: Channel) => firingFor(c.name, alerts, deps.routes, configured);
    const hasWork = deps.channels.some((c) => pending.some((n) => n.channels?.includes(c.name)) || (c.refiresWhileFiring && firing(c).length > 0));
    const canSend = hasWork && remaining() > deps.settings.sendBudgetMs + 2_000;
    if (hasWork && !canSend) deps.log.warn("no time left to send this tick; kept pending for the next", { pending: pending.length, remainingMs: remaining() });
    // The lock is kept through the send only when its outcome must be recorded (something is owed);
    // re-posting what fires (Alertmanager) is idempotent and leaves nothing to record.
    const record = canSend && pending.length > 0;
    const committed = statusOf();
    await deps.store.commit({ state, status: committed, release: !record });
    if (!canSend) return { ...report(committed, 0, unsent), storeCommands: TICK_COMMANDS };

    const outcomes = await deliverAll(deps.channels, pending, firing, deps.now());
    let delivered = 0;
    const at = deps.now().toISOString();
    for (const [name, o] of outcomes) {
      delivered += o.delivered.length;
      const failed = o.owed - o.delivered.length - o.abandoned.length;
      const rec = (state.monitoring.channels[name] ??= { delivered: 0, failed: 0, unknown: 0 });
      rec.delivered += o.delivered.length;
      rec.failed += failed;
      rec.unknown += o.abandoned.length;
      if (o.delivered.length) rec.lastDeliveredAt = at;
      state.monitoring.failedSends += failed;
      // The receiver may have these: sending again risks a duplicate, so they are counted and not repeated.
      state.monitoring.unknownDeliveries += o.abandoned.length;
      if (o.error) {
        rec.lastError = o.error;
        rec.lastErrorAt = at;
        state.monitoring.lastSendError = `${name}: ${o.error}`;
        if (o.abandoned.length) deps.log.warn("notification delivery unknown; not repeated", { channel: name, count: o.abandoned.length, error: o.error });
        else if (failed > 0) deps.log.warn("notification send failed; kept pending for the next tick", { channel: name, count: failed, error: o.error });
        else deps.log.warn("re-posting the firing alerts failed; the next tick posts them again", { channel: name, error: o.error });
      }
    }
    state.alerts.pending = settle(pending, outcomes);
    if (!record) return { ...report(committed, delivered, unsent), storeCommands: TICK_COMMANDS };
    const status = statusOf();
    await deps.store.finish({ state, status });
    return { ...report(status, delivered, unsent), storeCommands: TICK_COMMANDS + SEND_EXTRA_COMMANDS };
  } catch (error) {
    if (options.write) await deps.store.finish({}).catch(() => {});
    throw error;
  }
}

/** Takes the lock; a manual run waits up to `waitMs` for a tick in progress. */
async function begin(deps: TickDeps, token: string, waitMs: number) {
  const until = deps.now().getTime() + waitMs;
  for (;;) {
    const read = await deps.store.begin(token, LOCK_MS);
    if (read.locked || deps.now().getTime() >= until) return read;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function selectProbes(deps: TickDeps, state: SentinelState, options: TickOptions, now: Date): { probe: AnyProbe; slot?: string }[] {
  const byId = new Map(deps.probes.map((p) => [p.id, p]));
  if (options.probes) return options.probes.map((id) => ({ probe: byId.get(id)! })).filter((x) => x.probe);
  const lastSlots = Object.fromEntries(Object.entries(state.probes).map(([id, m]) => [id, m.lastSlot]));
  return dueProbes(deps.infos, lastSlots, now).flatMap(({ id, slot }) => (byId.has(id) ? [{ probe: byId.get(id)!, slot }] : []));
}

/** The first tick after a stretch without one records how many probe runs that stretch missed. */
function noteGap(deps: TickDeps, state: SentinelState, now: Date, due: { slot?: string }[]) {
  const last = state.monitoring.lastTickAt;
  if (!last || now.getTime() - Date.parse(last) <= 2 * deps.settings.tickIntervalMs) return;
  const missed = deps.infos.reduce((n, p) => n + missedRuns(p.schedule, new Date(last), now), 0) - due.filter((d) => d.slot).length;
  state.monitoring.lostResults += Math.max(0, missed);
  state.monitoring.gaps = [...state.monitoring.gaps, { from: last, to: now.toISOString(), missedRuns: Math.max(0, missed) }].slice(-GAPS_KEEP);
  deps.log.warn("no stored evaluation for a while: probe runs were missed", { from: last, to: now.toISOString(), missedRuns: missed });
}

/**
 * The store could not be read: still run what this minute's schedules ask for, and write every result
 * whole to the function log, so nothing measured is lost; the next tick that reaches the store
 * records the gap.
 */
async function measureBlind(deps: TickDeps, options: TickOptions, now: Date, error: unknown): Promise<TickReport> {
  const message = error instanceof Error ? error.message.slice(0, 300) : String(error).slice(0, 300);
  deps.log.error("the sentinel's store is unreachable; results go to the log", { error: message });
  const due = selectProbes(deps, { probes: {} } as SentinelState, options, now).filter((d) => !d.slot || Date.parse(d.slot) > now.getTime() - deps.settings.tickIntervalMs);
  const budget = Math.max(1_000, Math.min(deps.settings.probeBudgetMs, deps.settings.budgetMs - (deps.now().getTime() - now.getTime()) - 1_000));
  const results = (await Promise.all(due.map(({ probe }) => deps.measure(probe, undefined, budget)))).map((m) => m.result);
  for (const result of results) deps.log.error("result not stored", { result });
  return { results, lost: options.write ? results.length : 0, slos: [], firing: [], notifications: [], delivered: 0, pending: 0, unsent: 0, skipped: `store unreachable: ${message}`, skipReason: "store-unreachable" };
}

/** Adds this tick's events to each SLO's lifetime counters, from the source the SLO uses now. */
function countSloEvents(state: SentinelState, slos: SloStatus[], results: ProbeResult[]) {
  for (const slo of slos) {
    if (!slo.source) continue;
    for (const r of results) {
      for (const [name, counts] of Object.entries(r.events ?? {})) {
        if (`${r.probe}:${name}` !== slo.source) continue;
        const totals = (state.sloTotals[slo.id] ??= { good: 0, total: 0 });
        totals.good += counts.good;
        totals.total += counts.total;
      }
    }
  }
}

function buildStatus(deps: TickDeps, state: SentinelState, silences: Parameters<typeof buildStatusDocument>[0]["silences"], slos: SloStatus[], now: Date): StatusDocument {
  const probes = deps.infos;
  return buildStatusDocument({
    latest: Object.fromEntries(probes.map((p) => [p.id, state.probes[p.id]?.latest ?? null])),
    histories: Object.fromEntries(probes.map((p) => [p.id, state.probes[p.id]?.history ?? []])),
    timelines: Object.fromEntries(probes.map((p) => [p.id, state.probes[p.id]?.timeline ?? []])),
    slos: { evaluatedAt: now.toISOString(), slos: slos.map((s) => ({ ...s, ...(state.sloTotals[s.id] ? { counters: state.sloTotals[s.id] } : {}) })) },
    alerts: state.alerts,
    silences,
    monitoring: {
      ...state.monitoring,
      pendingNotifications: state.alerts.pending.length,
      nextTickBy: new Date(now.getTime() + deps.settings.tickIntervalMs).toISOString(),
    },
    ...regionsGrid(state),
  }, { now, probes, staleFactor: deps.settings.staleFactor });
}

/** The region × model grid the `regions` probe keeps in its state, when it is there and well formed. */
function regionsGrid(state: SentinelState): { regions?: RegionsSection } {
  const kept = state.probes["regions"]?.state as { grid?: unknown } | undefined;
  const grid = RegionsSection.safeParse(kept?.grid);
  return grid.success ? { regions: grid.data } : {};
}
