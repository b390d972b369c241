import { Ledger } from "../shared/alerting/ledger.ts";
import { jobLinkBase, story, type IncidentStory } from "../shared/alerting/incident-story.ts";
import { createKeys } from "../shared/store/keys.ts";
import { readStored } from "../shared/store/documents.ts";
import type { Runtime } from "./runtime.ts";

/**
 * The incidents the ticks recorded (shared/alerting/incidents.ts), newest first, each told as a story
 * with its jobs' links: read from the ledger's document (1 GET). Undefined when no store is configured.
 */
export async function readStories(rt: Runtime): Promise<IncidentStory[] | undefined> {
  if (!rt.storeRedis) return undefined;
  const keys = createKeys(rt.config.store?.keyPrefix ?? "sentinel:");
  const ledger = readStored(Ledger, await rt.storeRedis.get<string>(keys.ledger));
  const base = jobLinkBase({ portalUrl: rt.config.portalUrl, beaconApiUrl: rt.config.beaconApiUrl });
  const now = rt.deps.now();
  return (ledger?.incidents ?? []).map((i) => story(i, base, now)).reverse();
}
