import { z } from "zod";
import { PROBE_IDS } from "../shared/probes/catalog.ts";
import { redactDeep } from "../shared/redact.ts";
import { parseJson } from "../shared/http.ts";
import { withRuntime } from "./platform.ts";
import { scheduledRun, tick } from "./tick.ts";
import { blobsAvailable, createBlobsLedgerCopy } from "./ledger-copy.ts";

/**
 * A local invocation may name probes to run now (`{"probes": ["health"]}`); Netlify's scheduler
 * sends only `{"next_run": ...}`, which runs whatever is due.
 */
const TickPayload = z.object({ probes: z.array(z.enum(PROBE_IDS as [string, ...string[]])).min(1).optional() });

/** The scheduled tick. Its answer is the tick's report (readable from the local runtime and `functions:invoke`). */
export function scheduledTick() {
  return withRuntime(async (rt, request) => {
    // On Netlify the ledger is also copied to Netlify Blobs, which a flush of the store cannot take.
    if (rt.config.store && blobsAvailable()) rt.ledgerCopy ??= createBlobsLedgerCopy({ prefix: rt.config.store.keyPrefix });
    const body = parseJson(await request.text().catch(() => ""));
    const payload = TickPayload.safeParse(body.ok ? body.value : {});
    if (!payload.success) {
      return Response.json({ error: "bad payload", problems: payload.error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`), known: PROBE_IDS }, { status: 400 });
    }
    // The scheduler's own invocation pings the heartbeat; a local run of named probes does not.
    const report = payload.data.probes ? await tick(rt, { write: true, probes: payload.data.probes, lockWaitMs: 10_000 }) : await scheduledRun(rt);
    rt.log.info("tick finished", {
      tickId: report.tickId, runningTick: report.runningTick, ran: report.results.map((r) => `${r.probe}:${r.status}`), skipped: report.skipped, lost: report.lost,
      notifications: report.notifications.length, delivered: report.delivered, pending: report.pending,
    });
    const { status: _status, ...rest } = report;
    return Response.json(redactDeep(rest, rt.redact));
  });
}
