import { RETRY_MARK } from "../../alerting/ledger.ts";
import { buildSlackMessage } from "./message.ts";
import { createSlackSender } from "./sender.ts";
import type { Channel, ChannelDefinition, ChannelEnv } from "../types.ts";
import { HttpUrl, optional } from "../../env-values.ts";

/** Slack's sender: its 10 s request timeout and one retry, the most a send takes inside a tick. */
export const SLACK_BUDGET_MS = 12_000;

/** Slack as a channel: everything owed in one Block Kit message (message.ts), all or nothing. */
export function createSlackChannel(options: { webhookUrl: string; statusUrl?: string; redact: (s: string) => string }): Channel {
  const sender = createSlackSender({ webhookUrl: options.webhookUrl, budgetMs: SLACK_BUDGET_MS });
  return {
    name: "slack",
    budgetMs: SLACK_BUDGET_MS,
    async deliver(owed, { now, retries }) {
      const ids = owed.map((n) => n.id);
      // Slack cannot deduplicate: a notification a previous tick may have posted says it is a retry.
      const marked = owed.map((n) => (retries?.has(n.id) ? { ...n, title: `${RETRY_MARK} ${n.title}` } : n));
      const outcome = await sender.send(buildSlackMessage(marked, { statusUrl: options.statusUrl, now, redact: options.redact }));
      if (outcome.delivery === "delivered") return { delivered: ids, abandoned: [] };
      // Slack may have posted it: sending again risks a duplicate (see sender.ts).
      if (outcome.delivery === "unknown") return { delivered: [], abandoned: ids, error: outcome.error };
      return { delivered: [], abandoned: [], error: outcome.error };
    },
  };
}

/** Slack's variables. */
const ENV = {
  /** An incoming webhook's URL; its path is its token. */
  SLACK_WEBHOOK_URL: { schema: optional(HttpUrl), secret: "url" },
} as const satisfies ChannelEnv;

/** Slack in the channel catalog: switched on by SLACK_WEBHOOK_URL; no settings of its own. */
export const SLACK = {
  name: "slack",
  variable: "SLACK_WEBHOOK_URL",
  env: ENV,
  create: ({ env, statusUrl, redact }) => createSlackChannel({ webhookUrl: env.SLACK_WEBHOOK_URL, statusUrl, redact }),
} as const satisfies ChannelDefinition<undefined, typeof ENV>;
