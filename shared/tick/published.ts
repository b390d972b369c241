import { z } from "zod";
import { Silence } from "../alerting/silences.ts";
import { StoredSlos } from "../status/slos.ts";

/**
 * What a tick published, kept in its memory: the moment, its SLO evaluation, the silences it read and
 * its cadence. With the rest of the memory and the ledger's incidents it is everything the status
 * document is built from, so the document is never stored: a view rebuilds it (shared/tick/store.ts
 * readStatus), and a tick's write is its memory and ledger alone (issue "The whole bill": the status
 * document repeated the memory's latest results and history, 7 KB of every minute's write).
 */
export const Published = z.object({
  at: z.string(),
  slos: StoredSlos.shape.slos,
  silences: z.array(Silence).default([]),
  tickIntervalMs: z.number().positive(),
});
export type Published = z.infer<typeof Published>;
