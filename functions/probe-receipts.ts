import { scheduledProbe } from "../netlify/probe-function.ts";

/**
 * The receipts probe in its own function (SENTINEL_TOPOLOGY=per-probe). No schedule here: netlify.toml's
 * per-probe block, uncommented, schedules it; with the default topology nothing fires it and it answers 404.
 */
export default scheduledProbe("receipts");
