import { randomUUID } from "node:crypto";
import { PAST_READ_COMMANDS, SEND_EXTRA_COMMANDS, TICK_COMMANDS } from "../cost/model.ts";
import type { ProbeResult } from "../result.ts";
import type { StatusDocument } from "../status/schema.ts";
import { collect, collectBlind } from "./collect.ts";
import { judge } from "./judge.ts";
import { decide, type Decision } from "./decide.ts";
import { publish, published } from "./publish.ts";
import { LOCK_MS, recall, remember, rememberDelivery } from "./remember.ts";
import { TRAFFIC } from "../probes/traffic/definition.ts";
import { carryOwnRequests } from "../probes/traffic/counters.ts";
import { deliver, planDelivery } from "./deliver.ts";
import { recordTickTime, type SentinelState } from "./state.ts";
import { foldToday, moveDay, moveSlots, pastDue, type PastDays, type PastSlots } from "./past.ts";
import { Ledger as LedgerSchema, memoryLostNote, pruneLedger, rebuildAlerts, recordIntents, type Ledger } from "../alerting/ledger.ts";
import { noteSends, trackIncidents } from "../alerting/incidents.ts";
import { readStored } from "../store/documents.ts";
import { tickIdOf } from "./store.ts";
import { encodeDocument } from "../store/codec.ts";
import { errorText, storeErrorText } from "../error-text.ts";
import type { TickDeps, TickOptions, TickReport } from "./types.ts";

export type { TickDeps, TickOptions, TickReport } from "./types.ts";

/**
 * One tick: the sentinel's whole scheduled work in one invocation, read as its phases, each in its
 * own module:
 *
 *   recall → collect → judge → decide → publish → remember → deliver → remember what was delivered
 *
 * It reads its memory (1 round trip), runs the probes that are due, decides with the results in
 * hand, writes its memory and the status document (1 round trip), then sends what it decided; when
 * something was owed, what the send settled is written once more. Manual runs go through here too,
 * naming the probes to run, so every result is judged the same way.
 */
export async function runTick(deps: TickDeps, options: TickOptions): Promise<TickReport> {
  const started = deps.now();
  const elapsed = () => deps.now().getTime() - started.getTime();
  const remaining = () => deps.settings.budgetMs - elapsed();

  const token = randomUUID();
  let read;
  let readMs = 0;
  try {
    read = await recall(deps, { write: options.write, lockWaitMs: options.lockWaitMs ?? 0, token });
    readMs = elapsed();
  } catch (error) {
    return measureBlind(deps, options, started, remaining, error);
  }
  if (!read.locked) return { ...nothing(), skipped: "another tick holds the lock", skipReason: "locked", ...(read.heldBy ? { runningTick: read.heldBy } : {}) };
  if (read.damaged) deps.log.error("the stored tick state was unreadable; starting from a fresh one", {});
  if (read.ledgerDamaged) deps.log.error("the stored ledger was unreadable; starting a new one", {});

  // What this tick measured, until it is stored: a write that fails takes them to the log (dropped()).
  let unstored: ProbeResult[] = [];
  try {
    const { state, silences } = read;
    let { ledger } = read;
    // A preview never rebuilds (nor logs, nor reads the copy): the next real tick does.
    const lost = read.missing ? "missing" : read.damaged ? "unreadable" : options.write && behind(deps, state, read.seq, started) ? "stale" : undefined;
    if (options.write && read.seq > 0) state.monitoring.seq = read.seq;
    if (options.write && lost) {
      // The store lost the ledger too (a flush), or kept it no better than the state (stale): its durable copy, when one is kept.
      const copy = read.ledgerMissing || read.ledgerDamaged || lost === "stale" ? await readCopy(deps) : undefined;
      if (copy) ledger = copy;
      rebuild(deps, state, ledger, lost, started, copy ? "durable copy" : "ledger");
    }
    const measured = await collect(deps, { state, only: options.probes, dueOnly: options.dueOnly, sends: options.send !== false, now: started, remainingMs: remaining() });
    const results = judge(state, measured, deps.now().getTime());
    // Our requests to Beacon after the traffic scrape: stored with its state, subtracted next run.
    const traffic = state.probes[TRAFFIC.id];
    if (options.write && traffic?.state !== undefined) traffic.state = carryOwnRequests(traffic.state);
    unstored = results;
    const decision = decide(deps, state, { results, silences, now: started });
    const pub = published({ silences, slos: decision.slos, now: started, tickIntervalMs: deps.settings.tickIntervalMs });
    state.published = pub;
    const status = () => publish({ infos: deps.infos, staleFactor: deps.settings.staleFactor }, state, pub, { incidents: ledger.incidents });
    const tickId = options.write ? { tickId: tickIdOf(token) } : {};
    const report = (doc: StatusDocument, extra: Partial<TickReport> = {}) => reportOf(state, results, decision, doc, { ...tickId, ...extra });
    if (!options.write) return report(status());

    // A tick that overran its lock must not overwrite the memory of the tick that took it since.
    if (elapsed() > LOCK_MS - 2_000) {
      deps.log.error("tick overran its lock; results not stored", { elapsedMs: elapsed(), results });
      return report(status(), { lost: results.length });
    }
    const sloSources = Object.fromEntries(decision.slos.map((s) => [s.id, s.source]));
    // The past: closed timeline slots and a closed day leave the hot memory (read and rewritten only then).
    const past = await settlePast(deps, state, started.getTime());
    trackIncidents(ledger, state.alerts, results, sloSources, started);
    foldToday(state, { results, infos: deps.infos, sloSources, incidents: ledger.incidents, nowMs: started.getTime() });
    const plan = planDelivery(deps, state, remaining, options.send !== false);
    // Before the send, in the same write: what each channel is about to be told (the ledger's intents).
    const intents = plan.canSend ? recordIntents(ledger, plan.pending, deps.channels, started) : undefined;
    noteSends(ledger);
    pruneLedger(ledger, started);
    // The tick's run time to the end of its write, rolled up per day: what Netlify bills (`sentinel cost --measured`).
    // The write itself cannot time itself into what it writes: its round trip is taken as the read's (one each).
    state.tickTimes = recordTickTime(state.tickTimes, elapsed() + readMs, started.getTime());
    const committed = status();
    const spent = TICK_COMMANDS + (past ? PAST_READ_COMMANDS : 0);
    if (!(await remember(deps.store, { token, state, ledger, past, keepLock: plan.recordOutcome }))) return fenced(deps, results, report(committed));
    unstored = [];
    if (!plan.canSend) return report(committed, { unsent: plan.unsent, storeCommands: spent });

    const delivered = await deliver(deps, state, plan, intents && { ledger, intents });
    if (!plan.recordOutcome) return report(committed, { delivered, unsent: plan.unsent, storeCommands: spent });
    const settled = status();
    noteSends(ledger);
    if (!(await rememberDelivery(deps.store, { token, state, ledger }))) {
      // Sent, but the lock was lost before the outcome was written: the ledger's intents tell the next tick.
      deps.log.error("the tick lost its lock after sending; the outcome is not stored (the ledger's intents stand for it)", { delivered });
    } else await writeCopy(deps, ledger);
    return report(settled, { delivered, unsent: plan.unsent, storeCommands: spent + SEND_EXTRA_COMMANDS });
  } catch (error) {
    if (options.write) {
      dropped(deps, unstored, error);
      await deps.store.finish({ token }).catch(() => {});
    }
    throw error;
  }
}

/**
 * The past documents this tick must rewrite, when its hot memory holds a closed timeline slot (every
 * 15 minutes) or a closed day (once a day): read (1 round trip), the closed parts moved into them, and
 * written with the tick's memory in its one fenced write. An unreadable past document is logged and
 * started afresh: the history it held is lost, never the tick.
 */
async function settlePast(deps: TickDeps, state: SentinelState, nowMs: number): Promise<{ slots?: PastSlots; days?: PastDays } | undefined> {
  const due = pastDue(state, nowMs);
  if (!due.slots && !due.days) return undefined;
  const read = await deps.store.readPast(due);
  if (read.damaged.length) deps.log.error("a past document of the tick was unreadable; starting it afresh", { documents: read.damaged });
  return {
    ...(due.slots && read.slots ? { slots: moveSlots(state, read.slots, nowMs) } : {}),
    ...(due.days && read.days ? { days: moveDay(state, read.days, nowMs) } : {}),
  };
}

/**
 * The write that would have stored this tick's results failed (the store dropped it, or answered an
 * error): each result goes to the log, one line per probe (the logger redacts each line whole), so
 * nothing measured is lost silently. The next tick that reaches the store counts the gap.
 */
function dropped(deps: TickDeps, results: ProbeResult[], error: unknown) {
  if (!results.length) return;
  deps.log.error("the tick's write failed; its results are not stored (results follow)", { error: storeErrorText(error), count: results.length });
  for (const result of results) deps.log.error("result not stored", { result });
}

/**
 * A store that answers OK without storing: each state records the write sequence it was written under
 * (the store's counter, counted when a tick takes the lock), so the next tick that takes it expects
 * its own number less one. Less means the store acknowledged a write it did not keep (or a tick that
 * took the lock could not write): reported on the status document and in the log, and handled as
 * lost memory. More means the counter itself was lost: said in the log; the sequence goes on from the
 * counter. Updates `state.monitoring`.
 */
function behind(deps: TickDeps, state: SentinelState, seq: number, now: Date): boolean {
  const stored = state.monitoring.seq;
  if (stored === undefined || seq === 0) return false;
  if (stored >= seq) {
    deps.log.warn("the store's write sequence is behind the stored state (its counter was lost); counting on from the counter", { storedSeq: stored, seq });
    return false;
  }
  if (stored === seq - 1) return false;
  state.monitoring.staleState = { at: now.toISOString(), storedSeq: stored, expectedSeq: seq - 1 };
  deps.log.error("the stored state is behind the write sequence: the store acknowledged a write it did not keep (or a tick could not write); treated as lost memory", { storedSeq: stored, expectedSeq: seq - 1 });
  return true;
}

/**
 * The memory was lost (its key missing, unreadable, or stale): every alert the ledger says a channel was told
 * is firing is rebuilt as firing and announced, so it is resolved once when its cause clears and never
 * announced again; the loss is logged, shown on the status document, and said once to every channel
 * holding open alerts. Updates `state`.
 */
function rebuild(deps: TickDeps, state: SentinelState, ledger: Ledger, reason: "missing" | "unreadable" | "stale", now: Date, from: "ledger" | "durable copy") {
  const rebuilt = rebuildAlerts(state.alerts, ledger);
  if (!rebuilt.length) return;
  state.monitoring.memoryLost = { at: now.toISOString(), reason, from, alerts: rebuilt.slice(0, 50) };
  deps.log.error(`the tick's memory was lost; open alerts rebuilt from the ${from === "ledger" ? "ledger" : "ledger's durable copy"}`, { reason, alerts: rebuilt });
  const note = memoryLostNote(ledger, rebuilt, reason, now, from);
  const configured = new Set(deps.channels.map((c) => c.name));
  if (note) state.alerts.pending.push({ ...note, channels: note.channels!.filter((c) => configured.has(c)) });
}

/** The most the durable copy may take per call: it must never cost the tick its send. */
export const LEDGER_COPY_TIMEOUT_MS = 2_000;

/** The ledger's durable copy, read once after the store lost both the state and the ledger; a failure is logged, never thrown. */
async function readCopy(deps: TickDeps): Promise<Ledger | undefined> {
  if (!deps.ledgerCopy) return undefined;
  try {
    const raw = await withTimeout(deps.ledgerCopy.read(), LEDGER_COPY_TIMEOUT_MS);
    const ledger = readStored(LedgerSchema, raw);
    if (raw !== undefined && !ledger) deps.log.error("the ledger's durable copy is unreadable", {});
    return ledger;
  } catch (error) {
    deps.log.error("the ledger's durable copy could not be read", { error: errorText(error).slice(0, 300) });
    return undefined;
  }
}

/** After a tick that sent and stored its outcome: the ledger copied away from the store (1 write); a failure is logged. */
async function writeCopy(deps: TickDeps, ledger: Ledger): Promise<void> {
  if (!deps.ledgerCopy) return;
  try {
    await withTimeout(deps.ledgerCopy.write(encodeDocument(ledger)), LEDGER_COPY_TIMEOUT_MS);
  } catch (error) {
    deps.log.warn("the ledger's durable copy could not be written; the store's ledger stands", { error: errorText(error).slice(0, 300) });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * The write was refused: this tick no longer holds the lock (it expired, or the store was flushed and
 * another tick may hold it now). It sends nothing, so two ticks never both send; its results go whole
 * to the log.
 */
function fenced(deps: TickDeps, results: ProbeResult[], report: TickReport): TickReport {
  deps.log.error("the tick lost its lock before writing; nothing stored, nothing sent (results follow)", {});
  for (const result of results) deps.log.error("result not stored", { result });
  return { ...report, lost: results.length, delivered: 0, skipped: "lost the store's lock before writing (it expired, or the store was flushed): nothing stored or sent", skipReason: "fenced" };
}

/**
 * The store could not be read: still run what this minute's schedules ask for, and write every result
 * whole to the function log, so nothing measured is lost; the next tick that reaches the store
 * records the gap.
 */
async function measureBlind(deps: TickDeps, options: TickOptions, now: Date, remaining: () => number, error: unknown): Promise<TickReport> {
  // Whole: the logger and the heartbeat redact it before they cut it.
  const message = storeErrorText(error);
  deps.log.error("the sentinel's store is unreachable; results go to the log", { error: message });
  const results = await collectBlind(deps, { only: options.probes, dueOnly: options.dueOnly, now, remainingMs: remaining() });
  for (const result of results) deps.log.error("result not stored", { result });
  return { ...nothing(), results, lost: options.write ? results.length : 0, skipped: `store unreachable: ${message}`, skipReason: "store-unreachable" };
}

/** A report of a tick that evaluated nothing. */
function nothing(): TickReport {
  return { results: [], lost: 0, slos: [], firing: [], notifications: [], delivered: 0, pending: 0, unsent: 0 };
}

/** The report of a tick that evaluated: what ran, what was decided, what is pending and firing now. */
function reportOf(state: SentinelState, results: ProbeResult[], decision: Decision, status: StatusDocument, extra: Partial<TickReport>): TickReport {
  return {
    results, lost: 0, slos: decision.slos, notifications: decision.notifications, delivered: 0, unsent: 0, status,
    pending: state.alerts.pending.length, firing: Object.values(state.alerts.alerts).filter((a) => a.firing), ...extra,
  };
}
