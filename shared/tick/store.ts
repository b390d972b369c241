import type { Redis } from "@upstash/redis";
import { SentinelState, emptySentinelState, storedState } from "./state.ts";
import { parseSilences, type Silence } from "../alerting/silences.ts";
import type { StatusDocument } from "../status/schema.ts";
import { readStored } from "../store/documents.ts";
import { encodeDocument } from "../store/codec.ts";
import type { Keys } from "../store/keys.ts";
import { Ledger, emptyLedger } from "../alerting/ledger.ts";
import { PastDays, PastSlots, type PastDue } from "./past.ts";
import { publish, type PublishView } from "./publish.ts";

/**
 * The tick's memory in the store: its typed documents over the generic store port (shared/store:
 * keys, codec, replies). The tick's whole conversation with the store, counted the way Upstash bills it (every command in a
 * pipeline counts):
 * - `begin`: 1 round trip, 3 commands: one EVAL of TAKE_LOCK (SET NX PX of the lock, the tick's fencing
 *   token as its value, and, only when taken, INCR of the write sequence), one MGET of the state and
 *   the ledger (shared/alerting/ledger.ts), HGETALL of the silences.
 * - `commit`: 1 round trip, 1 EVAL of WRITE_IF_HELD: it writes the state and the ledger, and the past
 *   documents when due (MSET), and releases the lock (DEL) only while the lock still holds this tick's token; otherwise it
 *   writes nothing and the tick sends nothing. `finish` is the same script once more after a send.
 * - `readPast`: 1 round trip, 1 MGET of the past documents due (shared/tick/past.ts): once every 15
 *   minutes, when a timeline slot closed (and the day's first tick); they are written with the rest.
 * - `peek` (previews, dry runs): 1 round trip, 2 commands, no lock.
 * - `readStatus` (every status view): 1 round trip, 1 MGET of the state, the ledger and the two past
 *   documents, from which the status document is built (shared/tick/publish.ts): it is never stored.
 * A scheduled minute therefore costs 4 commands (5 when it sends, 5 when a slot closed): 172,800 a month plus 2,880 past reads; its 2 scripts run
 * 5 commands inside (SET, INCR; GET, MSET, DEL), 3 more if Upstash counted inside scripts (shared/cost/model.ts).
 */
export interface TickStore {
  begin(token: string, lockMs: number): Promise<TickRead>;
  peek(): Promise<TickRead>;
  /** True when written: the lock still held `token`. False: nothing was written (another tick, or nobody, holds it). */
  commit(write: { token: string; release: boolean } & Documents): Promise<boolean>;
  /** The same, always releasing the lock (nothing to write: only the release). */
  finish(write: { token: string } & Partial<Documents>): Promise<boolean>;
  /** The past documents `due` asks for (a missing or unreadable one reads as empty; `damaged` names it). */
  readPast(due: PastDue): Promise<{ slots?: PastSlots; days?: PastDays; damaged: string[] }>;
  readStatus(): Promise<StatusDocument | undefined>;
}

/** What a tick writes, in one script, only while it holds the lock. */
export interface Documents {
  state: SentinelState;
  ledger?: Ledger;
  past?: { slots?: PastSlots; days?: PastDays };
}

export interface TickRead {
  /** False when another tick holds the lock (nothing else was read). */
  locked: boolean;
  state: SentinelState;
  silences: Silence[];
  /** The stored state was present but unreadable (then a fresh one is used, and the status says so). */
  damaged: boolean;
  /** No state was stored at all (first run, or the key was lost). */
  missing: boolean;
  /** What each channel was told (its own key: it outlives a damaged state); empty when absent or unreadable. */
  ledger: Ledger;
  /** A ledger was stored but could not be read. */
  ledgerDamaged: boolean;
  /** No ledger was stored at all. */
  ledgerMissing: boolean;
  /** This tick's number in the write sequence (taken with the lock); 0 when the lock was not taken or not asked for. */
  seq: number;
  /** When another tick holds the lock: that tick's id (tickIdOf), if it was still holding it. */
  heldBy?: string;
}

/**
 * A durable copy of the ledger away from the store, for the day the store loses both the state and
 * the ledger (a flush): Netlify Blobs in production (netlify/ledger-copy.ts). Values are the ledger
 * as stored (encodeDocument). Written once by each tick that sent (after its outcome), read only
 * when the state and the ledger are both gone.
 */
export interface LedgerCopy {
  read(): Promise<string | undefined>;
  write(value: string): Promise<void>;
}

/**
 * Lua: take the lock KEYS[1] with the fencing token ARGV[1] for ARGV[2] ms (SET NX PX) and, only when
 * taken, count the write sequence KEYS[2] (INCR). Returns this tick's sequence number (an integer), or
 * when the lock is held, the holder's token (a string: GET, only then). A store that acknowledges a
 * write without keeping it leaves the state behind the sequence.
 */
export const TAKE_LOCK = [
  "if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('GET', KEYS[1]) or '' end",
  "return redis.call('INCR', KEYS[2])",
].join("\n");

/** A tick's id, as reports, logs and the manual-run API show it: the first 8 characters of its fencing token (enough to tell ticks apart, not the token). */
export function tickIdOf(token: string): string {
  return token.slice(0, 8);
}

/**
 * Lua: write KEYS[2..] = ARGV[3..] (one MSET) and, when ARGV[2] is "1", release the lock KEYS[1], only
 * while the lock holds ARGV[1], the writer's fencing token. Returns 1 when written, 0 when refused.
 */
export const WRITE_IF_HELD = [
  "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end",
  "local kv = {}",
  "for i = 2, #KEYS do kv[#kv + 1] = KEYS[i]; kv[#kv + 1] = ARGV[i + 1] end",
  "if #kv > 0 then redis.call('MSET', unpack(kv)) end",
  "if ARGV[2] == '1' then redis.call('DEL', KEYS[1]) end",
  "return 1",
].join("\n");

export function createTickStore(redis: Redis, keys: Keys, view: PublishView): TickStore {
  const read = async (lock?: { token: string; ms: number }): Promise<TickRead> => {
    const p = redis.pipeline();
    if (lock) p.eval(TAKE_LOCK, [keys.lock, keys.seq], [lock.token, String(lock.ms)]);
    p.mget(keys.state, keys.ledger);
    p.hgetall(keys.silences);
    const replies = (await p.exec()) as unknown[];
    const taken = lock ? replies.shift() : undefined;
    const seq = typeof taken === "number" ? taken : 0;
    const locked = lock ? seq > 0 : true;
    const heldBy = lock && !locked && typeof taken === "string" && taken ? tickIdOf(taken) : undefined;
    const [[rawState, rawLedger], rawSilences] = replies as [[unknown, unknown], unknown];
    const state = readStored(SentinelState, rawState);
    const ledger = readStored(Ledger, rawLedger);
    return {
      locked, state: state ?? emptySentinelState(), silences: parseSilences(rawSilences), damaged: rawState != null && state === undefined, missing: rawState == null,
      ledger: ledger ?? emptyLedger(), ledgerDamaged: rawLedger != null && ledger === undefined, ledgerMissing: rawLedger == null, seq, ...(heldBy ? { heldBy } : {}),
    };
  };

  /** One EVAL: the values written and the lock released only while `token` holds the lock. */
  const writeIfHeld = async (token: string, docs: Partial<Documents>, release: boolean): Promise<boolean> => {
    const pairs: [string, string][] = [];
    if (docs.state) pairs.push([keys.state, encodeDocument(storedState(docs.state))]);
    if (docs.ledger) pairs.push([keys.ledger, encodeDocument(docs.ledger)]);
    if (docs.past?.slots) pairs.push([keys.pastSlots, encodeDocument(docs.past.slots)]);
    if (docs.past?.days) pairs.push([keys.pastDays, encodeDocument(docs.past.days)]);
    const reply = await redis.eval(WRITE_IF_HELD, [keys.lock, ...pairs.map(([k]) => k)], [token, release ? "1" : "0", ...pairs.map(([, v]) => v)]);
    return Number(reply) === 1;
  };

  return {
    begin: (token, ms) => read({ token, ms }),
    peek: () => read(),
    commit: ({ token, release, ...docs }) => writeIfHeld(token, docs, release),
    finish: ({ token, ...docs }) => writeIfHeld(token, docs, true),
    async readPast(due) {
      const wanted = [...(due.slots ? [keys.pastSlots] : []), ...(due.days ? [keys.pastDays] : [])];
      if (!wanted.length) return { damaged: [] };
      const raw = await redis.mget<unknown[]>(...wanted);
      const rawOf = (key: string) => raw[wanted.indexOf(key)];
      const slots = due.slots ? readStored(PastSlots, rawOf(keys.pastSlots)) : undefined;
      const days = due.days ? readStored(PastDays, rawOf(keys.pastDays)) : undefined;
      const damaged = [
        ...(due.slots && rawOf(keys.pastSlots) != null && !slots ? ["past:slots"] : []),
        ...(due.days && rawOf(keys.pastDays) != null && !days ? ["past:days"] : []),
      ];
      return {
        ...(due.slots ? { slots: slots ?? PastSlots.parse({}) } : {}),
        ...(due.days ? { days: days ?? PastDays.parse({}) } : {}),
        damaged,
      };
    },
    async readStatus() {
      const [rawState, rawLedger, slots, days] = await redis.mget<unknown[]>(keys.state, keys.ledger, keys.pastSlots, keys.pastDays);
      const state = readStored(SentinelState, rawState);
      if (!state?.published) return undefined;
      const past = { slots: readStored(PastSlots, slots), days: readStored(PastDays, days) };
      return publish(view, state, state.published, { incidents: readStored(Ledger, rawLedger)?.incidents ?? [], past });
    },
  };
}
