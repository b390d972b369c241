import type { ProbeResult } from "../result.ts";
import type { AnyProbe } from "../probes/types.ts";
import type { Measurement } from "../runner.ts";
import type { Logger } from "../log.ts";
import type { Notification } from "../alerting/notification.ts";
import type { AlertRecord } from "../alerting/state.ts";
import type { SloStatus } from "../slo/evaluate.ts";
import type { FanInPolicy } from "../fanin/evaluate.ts";
import type { ProbeInfo } from "../status/document.ts";
import type { StatusDocument } from "../status/schema.ts";
import type { Channel } from "../channels/types.ts";
import type { Route } from "../channels/routes.ts";
import type { LedgerCopy, TickStore } from "./store.ts";

/** What the tick takes (its dependencies, built by netlify/tick.ts; tests build their own) and what it reports. */

export interface TickDeps {
  store: TickStore;
  /** The ledger's durable copy (Netlify Blobs in production); absent: none is kept. */
  ledgerCopy?: LedgerCopy;
  probes: readonly AnyProbe[];
  /** Each probe's cadence, width, and what the status document shows of it. */
  infos: ProbeInfo[];
  /** Runs one probe with its previous state inside `timeoutMs` (shared/runner.ts measure); `manual`: a run asked for by name. */
  measure(probe: AnyProbe, previousState: unknown, timeoutMs: number, manual?: boolean): Promise<Measurement>;
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
    /** Kept after the probes for judging, deciding and writing (TickSettings.writeReserveMs; default WRITE_RESERVE_MS). */
    writeReserveMs?: number;
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
  /**
   * Of the probes due, run only these: a per-probe function names its own probe, and the tick of the
   * per-probe topology names none and only evaluates. Unlike `probes`, a run still serves its probe's
   * slot, so a probe already run for its slot runs nothing (however often the function is called).
   */
  dueOnly?: string[];
  /** Send what is owed (default true). false: decided and queued, left for the tick to send (a per-probe function). */
  send?: boolean;
  /** Write and send. Without it the tick is a read-only preview: it runs what is asked and stores nothing. */
  write: boolean;
  /** A manual run waits this long for a tick in progress (default 0: skip). */
  lockWaitMs?: number;
}

export interface TickReport {
  /** Why the tick did not evaluate, for people. */
  skipped?: string;
  /** The same, for code: another tick held the lock, the store could not be read, or the tick lost its lock before writing. */
  skipReason?: "locked" | "store-unreachable" | "fenced";
  /** This tick's id (the first 8 characters of its fencing token), when it took the lock. */
  tickId?: string;
  /** When another tick held the lock: that tick's id. */
  runningTick?: string;
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
