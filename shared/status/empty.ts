import { buildStatusDocument, type ProbeInfo } from "./document.ts";
import type { StatusDocument } from "./schema.ts";

/** The status before the first tick has stored one: every probe unknown, nothing evaluated yet. */
export function emptyStatus(probes: ProbeInfo[], now: Date): StatusDocument {
  return buildStatusDocument(
    { latest: {}, histories: {}, timelines: {}, slos: null, alerts: null, silences: [] },
    { now, probes, staleFactor: 2 },
  );
}
