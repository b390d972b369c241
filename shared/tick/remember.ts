import type { SentinelState } from "./state.ts";
import type { Ledger } from "../alerting/ledger.ts";
import type { Documents, TickRead, TickStore } from "./store.ts";
import type { TickDeps } from "./types.ts";

/** How long a tick holds the store's lock: a tick still running past it must not write (`runTick` checks). */
export const LOCK_MS = 30_000;

/**
 * The tick's memory in the store (shared/tick/store.ts says what each call costs). A scheduled tick
 * reads under the lock, and a manual run waits up to `lockWaitMs` for a tick in progress; a preview
 * reads without it. 1 round trip per attempt.
 */
export async function recall(deps: Pick<TickDeps, "store" | "now">, options: { write: boolean; lockWaitMs: number; token: string }): Promise<TickRead> {
  if (!options.write) return deps.store.peek();
  const until = deps.now().getTime() + options.lockWaitMs;
  for (;;) {
    const read = await deps.store.begin(options.token, LOCK_MS);
    if (read.locked || deps.now().getTime() >= until) return read;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * Remember: the memory (with what it published) and the ledger (with this tick's intents), written before
 * anything is sent, so a tick that dies while sending has still recorded what it decided and what it
 * was about to send (1 round trip, 1 script). Written only while the tick still holds its lock (its
 * fencing token): false means it lost it (expired, or the store was flushed) and must send nothing.
 * The lock is kept only when the send's outcome must be recorded: something is owed to a channel.
 */
export async function remember(store: TickStore, write: { token: string; state: SentinelState; ledger: Ledger; past: Documents["past"]; keepLock: boolean }): Promise<boolean> {
  return store.commit({ token: write.token, state: write.state, ledger: write.ledger, ...(write.past ? { past: write.past } : {}), release: !write.keepLock });
}

/** What the send settled (delivered, still owed) and its outcome in the ledger, written again, and the lock released (1 round trip, 1 script); false when the lock was lost. */
export async function rememberDelivery(store: TickStore, write: { token: string; state: SentinelState; ledger: Ledger }): Promise<boolean> {
  return store.finish(write);
}
