import { getStore, type Store } from "@netlify/blobs";
import type { LedgerCopy } from "../shared/tick/store.ts";
import { platformEnv } from "./platform.ts";

/** Netlify provides Blobs' context to its functions (netlify dev too); elsewhere there is no copy. */
export function blobsAvailable(): boolean {
  return Boolean((globalThis as { netlifyBlobsContext?: unknown }).netlifyBlobsContext ?? platformEnv().NETLIFY_BLOBS_CONTEXT);
}

/** The Netlify Blobs store and key of the ledger's durable copy. */
export const LEDGER_COPY_STORE = "sentinel-ledger";
export const LEDGER_COPY_KEY = "ledger";

/**
 * The ledger's durable copy in Netlify Blobs, the platform's own store, so a flush of the sentinel's
 * Redis does not take it too. On Netlify the function's environment configures the client (strong
 * consistency: the copy read after a loss is the last one written); tests pass a BlobsServer's
 * address. The store is opened on first use, so a function that never needs it pays nothing. Costs:
 * one `set` per tick that sent (after its outcome is stored), one `get` after a memory loss with the
 * store's ledger gone too, nothing otherwise (shared/cost/model.ts LEDGER_COPY).
 */
export function createBlobsLedgerCopy(options: { prefix: string; client?: { siteID: string; token: string; apiURL?: string; edgeURL?: string } }): LedgerCopy {
  let store: Store | undefined;
  const open = () => (store ??= options.client ? getStore({ name: LEDGER_COPY_STORE, ...options.client }) : getStore({ name: LEDGER_COPY_STORE, consistency: "strong" }));
  // One deployment's keys apart from another's sharing the site (SENTINEL_KEY_PREFIX).
  const key = `${options.prefix}${LEDGER_COPY_KEY}`;
  return {
    async read() {
      const value = await open().get(key, { type: "text" });
      return value ?? undefined;
    },
    async write(value) {
      await open().set(key, value);
    },
  };
}
