import type { Redis } from "@upstash/redis";
import { SentinelState, emptySentinelState } from "./state.ts";
import { parseSilences, type Silence } from "../alerting/silences.ts";
import { StatusDocument } from "../status/schema.ts";
import { readStored } from "../store/documents.ts";
import { encodeDocument } from "../store/codec.ts";
import type { Keys } from "../store/keys.ts";

/**
 * The tick's memory in the store: its typed documents over the generic store port (shared/store:
 * keys, codec, replies). The tick's whole conversation with the store, counted the way Upstash bills it (every command in a
 * pipeline counts):
 * - `begin`: 1 round trip, 3 commands: SET NX PX of the lock, GET of the state, HGETALL of the silences.
 * - `commit`: 1 round trip, 2 commands: MSET of the state and the status document, DEL of the lock
 *   (1 when the lock is kept for a send that follows: `finish` then writes both again and releases, 2).
 * - `peek` (previews, dry runs): 1 round trip, 2 commands, no lock.
 * - `readStatus` (every status view): 1 round trip, 1 GET.
 * A scheduled minute therefore costs 5 commands (6 when it sends): 216,000 a month.
 */
export interface TickStore {
  begin(token: string, lockMs: number): Promise<TickRead>;
  peek(): Promise<TickRead>;
  commit(write: { state: SentinelState; status?: StatusDocument; release: boolean }): Promise<void>;
  finish(write: { state?: SentinelState; status?: StatusDocument }): Promise<void>;
  readStatus(): Promise<StatusDocument | undefined>;
}

export interface TickRead {
  /** False when another tick holds the lock (nothing else was read). */
  locked: boolean;
  state: SentinelState;
  silences: Silence[];
  /** The stored state was present but unreadable (then a fresh one is used, and the status says so). */
  damaged: boolean;
}

export function createTickStore(redis: Redis, keys: Keys): TickStore {
  const read = async (lock?: { token: string; ms: number }): Promise<TickRead> => {
    const p = redis.pipeline();
    if (lock) p.set(keys.lock, lock.token, { nx: true, px: lock.ms });
    p.get(keys.state);
    p.hgetall(keys.silences);
    const replies = (await p.exec()) as unknown[];
    const locked = lock ? replies.shift() === "OK" : true;
    const [rawState, rawSilences] = replies;
    const state = readStored(SentinelState, rawState);
    return { locked, state: state ?? emptySentinelState(), silences: parseSilences(rawSilences), damaged: rawState != null && state === undefined };
  };

  return {
    begin: (token, ms) => read({ token, ms }),
    peek: () => read(),
    async commit({ state, status, release }) {
      const p = redis.pipeline();
      const values: Record<string, string> = { [keys.state]: encodeDocument(state) };
      if (status) values[keys.status] = encodeDocument(status);
      p.mset(values);
      if (release) p.del(keys.lock);
      await p.exec();
    },
    async finish({ state, status }) {
      const p = redis.pipeline();
      const values: Record<string, string> = {};
      if (state) values[keys.state] = encodeDocument(state);
      if (status) values[keys.status] = encodeDocument(status);
      if (Object.keys(values).length) p.mset(values);
      p.del(keys.lock);
      await p.exec();
    },
    async readStatus() {
      return readStored(StatusDocument, await redis.get<string>(keys.status));
    },
  };
}
