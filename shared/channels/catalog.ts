import { z } from "zod";
import type { Channel, ChannelDefinition, ChannelEnvValues } from "./types.ts";
import { SLACK, SLACK_BUDGET_MS } from "./slack/index.ts";
import { PAGERDUTY } from "./pagerduty.ts";
import { ALERTMANAGER } from "./alertmanager.ts";
import { WEBHOOK } from "./webhook.ts";
import { EMAIL } from "./email.ts";

export type { Channel, ChannelOutcome, ChannelContext } from "./types.ts";

/**
 * Every channel, once, in the order they are listed and sent: each declares its name, the variable
 * that switches it on, its settings with defaults and how it is built, beside its code. The
 * configuration reads their settings and variables from here.
 */
export const CHANNELS = [SLACK, PAGERDUTY, ALERTMANAGER, WEBHOOK, EMAIL] as const;

export type ChannelName = (typeof CHANNELS)[number]["name"];
export const CHANNEL_NAMES = CHANNELS.map((c) => c.name) as [ChannelName, ...ChannelName[]];
export const ChannelName = z.enum(CHANNEL_NAMES);

/** The environment variable that switches each channel on, for configuration problems. */
export const CHANNEL_VARIABLES = Object.fromEntries(CHANNELS.map((c) => [c.name, c.variable])) as Record<ChannelName, string>;

/**
 * The configured channels' variables, as the configuration validated them (shared/config reads the
 * environment; each channel declares its variables): a channel is configured when its entry is
 * present. Typed by each channel's declaration: `channels.pagerduty.PAGERDUTY_ROUTING_KEY` is a
 * string, a name no channel declares does not compile.
 */
export interface ChannelDeployment {
  statusUrl?: string;
  channels: { [C in (typeof CHANNELS)[number] as C["name"]]?: ChannelEnvValues<C["env"]> };
}

/** `channels.<name>` of SENTINEL_SETTINGS: each channel's own schema, defaulted (channels without settings have no entry). */
export const ChannelSettings = z.object(settingsShape(CHANNELS)).strict();
export type ChannelSettings = z.infer<typeof ChannelSettings>;

type WithSettings<T> = T extends { settings: z.ZodType } ? T : never;

// biome-ignore lint: definitions whose settings types differ
function settingsShape<const T extends readonly ChannelDefinition<any>[]>(definitions: T) {
  const shape = Object.fromEntries(definitions.flatMap((c) => (c.settings ? [[c.name, c.settings.prefault({})]] : [])));
  return shape as { [C in WithSettings<T[number]> as C["name"]]: z.ZodPrefault<C["settings"]> };
}

/**
 * Every channel's delivery is bounded by this, and they run in parallel, so a tick's send takes at
 * most this long whatever the number of channels (the tick starts a send only when it fits).
 */
export const SEND_BUDGET_MS = SLACK_BUDGET_MS;

/** The configured channels, in CHANNEL_NAMES order. */
export function createChannels(
  config: ChannelDeployment & { settings: { channels: ChannelSettings } },
  deps: { fetch: typeof fetch; redact: (s: string) => string; now: () => Date },
): Channel[] {
  const settings = config.settings.channels as Record<string, unknown>;
  return CHANNELS.flatMap((c): Channel[] => {
    const env = config.channels[c.name];
    // biome-ignore lint: each definition reads its own settings entry
    return env ? [(c as ChannelDefinition<any>).create({ env, statusUrl: config.statusUrl, settings: settings[c.name], ...deps, budgetMs: SEND_BUDGET_MS })] : [];
  });
}
