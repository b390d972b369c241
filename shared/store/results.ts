import type { Redis } from "@upstash/redis";
import { z } from "zod";
import pRetry from "p-retry";
import { ProbeResult, CheckStatus } from "../result.ts";
import type { Keys } from "./keys.ts";
import { readStored } from "./documents.ts";

/** One line of a probe's history: enough for a 24-hour timeline and latency trend. */
export const HistoryEntry = z.object({
  t: z.string(),
  s: CheckStatus,
  d: z.number(),
  /** Names of the checks that were not passing. */
  f: z.array(z.string()),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export interface ResultStoreOptions {
  /** History entries kept per probe (1440 = a day of one-minute runs). */
  historyLength?: number;
  /** Approximate length the results stream is trimmed to. */
  streamMaxLength?: number;
  /** Retries of a failed write before giving up loudly. */
  retries?: number;
}

export interface ResultStore {
  /** Writes the result, its history line, its stream entry and the probe's state in one round trip. */
  record(result: ProbeResult, state?: unknown): Promise<void>;
  loadState(probe: string): Promise<unknown>;
  latest(probes: string[]): Promise<Record<string, ProbeResult | null>>;
  history(probe: string, count: number): Promise<HistoryEntry[]>;
}

export function createResultStore(redis: Redis, keys: Keys, options: ResultStoreOptions = {}): ResultStore {
  const historyLength = options.historyLength ?? 1440;
  const streamMaxLength = options.streamMaxLength ?? 10_000;
  // The Upstash client already retries network errors; these retries cover HTTP-level failures.
  const retries = options.retries ?? 2;

  return {
    async record(result, state) {
      const doc = JSON.stringify(ProbeResult.parse(result));
      const line: HistoryEntry = {
        t: result.startedAt, s: result.status, d: result.durationMs,
        f: result.checks.filter((c) => c.status !== "pass").map((c) => c.name),
      };
      await pRetry(
        async () => {
          const tx = redis.multi();
          tx.set(keys.latest(result.probe), doc);
          tx.lpush(keys.history(result.probe), JSON.stringify(line));
          tx.ltrim(keys.history(result.probe), 0, historyLength - 1);
          tx.xadd(keys.results, "*", { probe: result.probe, doc }, { trim: { type: "MAXLEN", threshold: streamMaxLength, comparison: "~" } });
          if (state !== undefined) tx.set(keys.state(result.probe), JSON.stringify(state));
          await tx.exec();
        },
        { retries, minTimeout: 200, factor: 2 },
      );
    },

    async loadState(probe) {
      const raw = await redis.get<string>(keys.state(probe));
      return readStored(z.unknown(), raw); // each stateful probe validates its own state
    },

    async latest(probes) {
      if (probes.length === 0) return {};
      const raws = await redis.mget<(string | null)[]>(...probes.map(keys.latest));
      return Object.fromEntries(probes.map((p, i) => [p, readStored(ProbeResult, raws[i]) ?? null]));
    },

    async history(probe, count) {
      const raws = await redis.lrange<string>(keys.history(probe), 0, count - 1);
      return raws.flatMap((raw) => readStored(HistoryEntry, raw) ?? []);
    },
  };
}
