import type { ProbeDefinition } from "../types.ts";
import { QueueSettings } from "./settings.ts";

/** The queue probe as the catalog lists it (index.ts adds `run`). */
export const QUEUE = { id: "queue", title: "Redis job queue", stage: "queue", schedule: "* * * * *", settings: QueueSettings, stateful: true } as const satisfies ProbeDefinition<QueueSettings>;
