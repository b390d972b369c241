import { startHttpReceiver, type HttpReceiver } from "./http-receiver.ts";

/**
 * A local stand-in for PagerDuty's Events API v2 (`POST /v2/enqueue`), written from PagerDuty's
 * published contract: `routing_key` (32 characters) and `event_action` (trigger, acknowledge,
 * resolve) are required; a trigger needs `payload.summary` (at most 1024 characters), `payload.source`
 * and `payload.severity` (critical, error, warning, info); `dedup_key` is at most 255 characters and is
 * generated when a trigger has none. Accepted events get 202 `{"status":"success","message":"Event
 * processed","dedup_key":...}`; invalid ones 400 `{"status":"invalid event","message":"Event object
 * is invalid","errors":[...]}`; 429 and 5xx come from the script. Alerts follow the documented
 * de-duplication: a trigger for an open alert adds to its log; after a resolve, a trigger opens a new
 * alert; a resolve for no open alert is dropped.
 */
export interface PagerDutyAlert {
  routingKey: string;
  dedupKey: string;
  status: "triggered" | "acknowledged" | "resolved";
  severity: string;
  summary: string;
  /** Every trigger applied to this alert (the first opened it). */
  triggers: number;
  links: unknown[];
}

export interface PagerDutyReceiver extends HttpReceiver {
  eventsUrl: string;
  /** Every alert opened, oldest first (a re-trigger after a resolve is a new one). */
  alerts: PagerDutyAlert[];
  /** Accepted events, in order. */
  events: any[];
}

const SEVERITIES = ["critical", "error", "warning", "info"];
const ACTIONS = ["trigger", "acknowledge", "resolve"];

export function validateEvent(e: any): string[] {
  const errors: string[] = [];
  if (!e || typeof e !== "object" || Array.isArray(e)) return ["Event object is not a JSON object"];
  if (typeof e.routing_key !== "string" || e.routing_key.length !== 32) errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  if (!ACTIONS.includes(e.event_action)) errors.push("'event_action' is missing or blank");
  if (e.dedup_key !== undefined && (typeof e.dedup_key !== "string" || e.dedup_key.length > 255)) errors.push("'dedup_key' must be a string of at most 255 characters");
  if (e.event_action === "trigger") {
    const p = e.payload;
    if (!p || typeof p !== "object") errors.push("'payload' is missing");
    else {
      if (typeof p.summary !== "string" || !p.summary) errors.push("'payload.summary' is missing or blank");
      else if (p.summary.length > 1024) errors.push("'payload.summary' is longer than 1024 characters");
      if (typeof p.source !== "string" || !p.source) errors.push("'payload.source' is missing or blank");
      if (!SEVERITIES.includes(p.severity)) errors.push("'payload.severity' must be one of critical, error, warning, info");
      if (p.timestamp !== undefined && Number.isNaN(Date.parse(p.timestamp))) errors.push("'payload.timestamp' is not an ISO 8601 timestamp");
    }
  } else if (ACTIONS.includes(e.event_action) && typeof e.dedup_key !== "string") errors.push("'dedup_key' is required for acknowledge and resolve");
  return errors;
}

export async function startPagerDutyReceiver(): Promise<PagerDutyReceiver> {
  const alerts: PagerDutyAlert[] = [];
  const events: any[] = [];
  let generated = 0;
  const receiver = await startHttpReceiver({
    handle({ method, path, raw }) {
      if (method !== "POST" || path !== "/v2/enqueue") return { status: 404, body: JSON.stringify({ status: "not found" }) };
      let event: any;
      try {
        event = JSON.parse(raw);
      } catch {
        return { status: 400, body: JSON.stringify({ status: "invalid event", message: "Event object is invalid", errors: ["Malformed JSON"] }) };
      }
      const errors = validateEvent(event);
      if (errors.length) return { status: 400, body: JSON.stringify({ status: "invalid event", message: "Event object is invalid", errors }) };
      events.push(event);
      const key: string = event.dedup_key ?? `generated-${++generated}`;
      // Follow-up events apply to an open alert only through the routing key that opened it.
      const open = alerts.find((a) => a.dedupKey === key && a.routingKey === event.routing_key && a.status !== "resolved");
      if (event.event_action === "trigger") {
        if (open) open.triggers++;
        else alerts.push({ routingKey: event.routing_key, dedupKey: key, status: "triggered", severity: event.payload.severity, summary: event.payload.summary, triggers: 1, links: event.links ?? [] });
      } else if (event.event_action === "resolve" && open) open.status = "resolved";
      else if (event.event_action === "acknowledge" && open) open.status = "acknowledged";
      return { status: 202, body: JSON.stringify({ status: "success", message: "Event processed", dedup_key: key }) };
    },
  });
  return Object.assign(receiver, { eventsUrl: `${receiver.url}/v2/enqueue`, alerts, events });
}
