import type { ProbeResult } from "../result.ts";
import { evaluateSlo, type SloStatus } from "../slo/evaluate.ts";
import type { Objective } from "../slo/objectives.ts";
import { increments, staleFields, windowCounter, type CounterHash } from "../slo/counters.ts";
import { evaluateAlerts, type WatchedProbe } from "../alerting/evaluate.ts";
import type { AlertingSettings } from "../alerting/settings.ts";
import type { Silence } from "../alerting/silences.ts";
import type { AlertState } from "../alerting/state.ts";
import type { Notification } from "../alerting/notification.ts";

/** Everything one evaluation reads, fetched in one round trip. */
export interface FanInSnapshot {
  results: ProbeResult[];
  counters: Record<string, CounterHash>;
  state: AlertState;
  silences: Silence[];
}

/** Everything one evaluation decides, written in one round trip. */
export interface FanInDecision {
  slos: SloStatus[];
  state: AlertState;
  notifications: Notification[];
  /** HINCRBY operations per counter source. */
  increments: Record<string, [field: string, by: number][]>;
  /** Counter fields past retention, per source. */
  prune: Record<string, string[]>;
}

export interface FanInPolicy {
  objectives: Objective[];
  alerting: AlertingSettings;
  probes: WatchedProbe[];
}

/** The fan-in's whole decision, a pure function of (snapshot, policy, now). */
export function decide(snapshot: FanInSnapshot, policy: FanInPolicy, now: Date): FanInDecision {
  const counters = structuredClone(snapshot.counters);
  const incs: FanInDecision["increments"] = {};
  for (const result of snapshot.results) {
    for (const [name, counts] of Object.entries(result.events ?? {})) {
      const source = `${result.probe}:${name}`;
      const at = Date.parse(result.startedAt);
      for (const [field, by] of increments(counts, at)) {
        (incs[source] ??= []).push([field, by]);
        const hash = (counters[source] ??= {});
        hash[field] = (hash[field] ?? 0) + by;
      }
    }
  }
  const longestPeriod = Math.max(30, ...policy.objectives.map((o) => o.periodDays));
  const prune = Object.fromEntries(Object.entries(counters).map(([s, h]) => [s, staleFields(h, now.getTime(), longestPeriod)]));
  const count = windowCounter(counters, now.getTime());
  const slos = policy.objectives.map((o) => evaluateSlo(o, count, now.getTime()));
  const { state, notifications } = evaluateAlerts({
    state: snapshot.state, results: snapshot.results, slos, probes: policy.probes,
    silences: snapshot.silences, settings: policy.alerting, now,
  });
  return { slos, state, notifications, increments: incs, prune };
}
