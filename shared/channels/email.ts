import { createHash } from "node:crypto";
import { z } from "zod";
import type { Notification } from "../alerting/notification.ts";
import { createRedactor, redactDeep, secretsOfUrl } from "../redact.ts";
import { RequestTimeoutMs, type Channel, type ChannelDefinition, type ChannelEnv } from "./types.ts";
import { optional } from "../env-values.ts";

/**
 * Email through an SMTP server (nodemailer): one message when an alert fires and one when it resolves,
 * each with a plain-text and an HTML part, everything in them redacted. Reminders send nothing: an
 * inbox is not a pager (Slack and PagerDuty remind). The resolution answers the firing message
 * (In-Reply-To), so a mail client shows an alert's story as one thread.
 *
 * Exactly once: a message the server accepted is delivered; an error before the message was sent
 * keeps it owed (the next tick retries); an error after its body went out (the server may have
 * queued it) abandons it, counted, never repeated. The Message-ID is derived from the notification,
 * so a receiver that dedupes on it never shows a retry twice either.
 *
 * SENTINEL_SMTP_URL: `smtps://user:password@host:465` (TLS from the start) or
 * `smtp://user:password@host:587` (STARTTLS, required unless the host is loopback: a local relay).
 */

/**
 * An SMTP server with its credentials. Problems name the scheme or the part that is wrong, never the
 * value (it holds a password).
 */
const SmtpUrl = z.string().trim().superRefine((raw, ctx) => {
  const shape = "smtps://user:password@host:465 or smtp://user:password@host:587";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    ctx.addIssue({ code: "custom", message: `must be a URL: ${shape}` });
    return;
  }
  // Only a well-known scheme is named back: anything else before a colon could be part of a secret.
  const known = ["http:", "https:", "mailto:", "ftp:", "submission:", "submissions:"].includes(url.protocol) ? `, not ${url.protocol}//` : "";
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") ctx.addIssue({ code: "custom", message: `must start with smtps:// (TLS) or smtp:// (STARTTLS)${known}: ${shape}` });
  else if (!url.hostname) ctx.addIssue({ code: "custom", message: `names no host: ${shape}` });
  else if (url.pathname && url.pathname !== "/" || url.search || url.hash) ctx.addIssue({ code: "custom", message: `must be only user, password, host and port: ${shape}` });
  else if (url.username && !url.password) ctx.addIssue({ code: "custom", message: `names a user without a password: ${shape}` });
});

const ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;
/** `a@example.org` or `Name <a@example.org>`. */
const isAddress = (s: string) => ADDRESS.test(s) || (/^[^<>,;"\r\n]*<([^<>]+)>$/.test(s) && ADDRESS.test(/<([^<>]+)>$/.exec(s)![1]!));
const EmailAddress = z.string().trim().refine(isAddress, "must be one email address, a@example.org or Name <a@example.org>");
const EmailList = z.string().transform((raw, ctx) => {
  const list = raw.split(",").map((a) => a.trim()).filter(Boolean);
  if (list.length === 0) ctx.addIssue({ code: "custom", message: "must name at least one address" });
  list.forEach((a, i) => { if (!isAddress(a)) ctx.addIssue({ code: "custom", message: `address ${i + 1} is not an email address (a@example.org or Name <a@example.org>)` }); });
  return list;
});

/** `channels.email` of SENTINEL_SETTINGS. */
export const EmailSettings = z.object({
  /** Each step of one SMTP exchange (connect, greeting, each reply) must answer within this, in ms. */
  requestTimeoutMs: RequestTimeoutMs,
  /** Put before every subject, e.g. "[beacon]"; empty: none. */
  subjectPrefix: z.string().max(40).regex(/^[^\r\n]*$/, "must be one line").default(""),
}).strict();
export type EmailSettings = z.infer<typeof EmailSettings>;

export interface EmailDeployment {
  /** smtp(s)://user:password@host:port: a secret as a whole. */
  url: string;
  from: string;
  to: string[];
}

/** Email's variables. */
const ENV = {
  /** The SMTP server email goes through: smtps://user:password@host:465 or smtp://user:password@host:587 (STARTTLS). */
  SENTINEL_SMTP_URL: { schema: optional(SmtpUrl), secret: "url" },
  /** The sender, `alerts@example.org` or `Beacon Sentinel <alerts@example.org>`. */
  SENTINEL_EMAIL_FROM: { schema: optional(EmailAddress), secret: "none" },
  /** The recipients, comma-separated. */
  SENTINEL_EMAIL_TO: { schema: optional(EmailList), secret: "none" },
} as const satisfies ChannelEnv;

/** Email in the channel catalog: switched on by SENTINEL_SMTP_URL (with SENTINEL_EMAIL_FROM and SENTINEL_EMAIL_TO). */
export const EMAIL = {
  name: "email",
  variable: "SENTINEL_SMTP_URL",
  env: ENV,
  together: [["SENTINEL_SMTP_URL", "SENTINEL_EMAIL_FROM", "SENTINEL_EMAIL_TO"]],
  settings: EmailSettings,
  create: ({ env, settings, ...common }) => createEmailChannel({ ...common, url: env.SENTINEL_SMTP_URL, from: env.SENTINEL_EMAIL_FROM, to: env.SENTINEL_EMAIL_TO, settings }),
} as const satisfies ChannelDefinition<EmailSettings, typeof ENV>;

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
  messageId: string;
  inReplyTo?: string;
}

const STATE = { firing: "FIRING", reminder: "STILL FIRING", resolved: "RESOLVED" } as const;
const WHAT = { check: "check", missing: "probe missing", blind: "probe blind", slo: "SLO" } as const;
/** Evidence items listed; the rest is counted. */
const EVIDENCE_SHOWN = 10;

/** Where an alert's thread is rooted: the firing message of that alert occurrence. */
function threadId(n: Notification, domain: string): string {
  return `<${createHash("sha256").update(`${n.alertKey}\n${n.since}`).digest("hex").slice(0, 32)}@${domain}>`;
}

/**
 * The message for one notification. Pure. Every string from the notification is redacted first (so a
 * clipped secret cannot leak half of itself), then clipped, then escaped for HTML.
 */
export function emailMessage(raw: Notification, o: { redact: (s: string) => string; statusUrl?: string; subjectPrefix?: string; domain?: string }): EmailMessage {
  const n = redactDeep(raw, o.redact);
  const domain = o.domain ?? "beacon-sentinel.invalid";
  const state = STATE[n.kind];
  const subject = oneLine(`${o.subjectPrefix ? `${o.subjectPrefix} ` : ""}[${state}] ${n.title} (${n.stage}, ${n.severity})`, 200);
  const lasted = n.kind === "resolved" && n.durationMs !== undefined ? `, after ${minutes(n.durationMs)}` : "";
  const rows: [string, string][] = [
    ["Alert", `${n.alertKey} (${WHAT[n.alertType]}, severity ${n.severity})`],
    ["Stage", n.stage],
    ...(n.probe ? [["Probe", n.check ? `${n.probe} / ${n.check}` : n.probe] as [string, string]] : []),
    ...(n.slo ? [["SLO", n.slo] as [string, string]] : []),
    ["Since", `${n.since}${lasted}`],
    ["Observed", String(n.observed)],
    ["Threshold", String(n.threshold)],
    ...(n.budget ? [["Budget", budgetLine(n.budget)] as [string, string]] : []),
  ];
  const evidence = n.evidence.slice(0, EVIDENCE_SHOWN).map((e) => clip(e, 300));
  const more = n.evidenceTotal - evidence.length;
  const headline = `${state}: ${clip(n.title, 300)}`;
  const text = [
    headline, "", clip(n.message, 2000), "",
    ...rows.map(([k, v]) => `${`${k}:`.padEnd(11)}${clip(v, 500)}`),
    ...(evidence.length ? ["", `Evidence (${evidence.length} of ${n.evidenceTotal}):`, ...evidence.map((e) => `  - ${e}`), ...(more > 0 ? [`  and ${more} more`] : [])] : []),
    ...(n.nextStep ? ["", `Next step: ${clip(n.nextStep, 500)}`] : []),
    ...(o.statusUrl ? ["", `Status page: ${o.statusUrl}`] : []),
    "", "-- Beacon Sentinel", "",
  ].join("\n");
  const colour = n.kind === "resolved" ? "#1a7f37" : n.severity === "warning" ? "#9a6700" : "#cf222e";
  const html = [
    "<!doctype html>",
    `<html><body style="font-family:system-ui,sans-serif;line-height:1.4">`,
    `<h2 style="color:${colour};margin:0 0 8px">${esc(headline)}</h2>`,
    `<p>${esc(clip(n.message, 2000))}</p>`,
    `<table style="border-collapse:collapse">${rows.map(([k, v]) => `<tr><th style="text-align:left;padding:2px 12px 2px 0">${esc(k)}</th><td>${esc(clip(v, 500))}</td></tr>`).join("")}</table>`,
    ...(evidence.length ? [`<p>Evidence (${evidence.length} of ${n.evidenceTotal}):</p><ul>${evidence.map((e) => `<li><code>${esc(e)}</code></li>`).join("")}${more > 0 ? `<li>and ${more} more</li>` : ""}</ul>`] : []),
    ...(n.nextStep ? [`<p><strong>Next step:</strong> ${esc(clip(n.nextStep, 500))}</p>`] : []),
    ...(o.statusUrl ? [`<p><a href="${esc(o.statusUrl)}">Status page</a></p>`] : []),
    `<p style="color:#57606a">Beacon Sentinel</p>`,
    "</body></html>",
  ].join("\n");
  const thread = threadId(n, domain);
  const own = `<${createHash("sha256").update(n.id).digest("hex").slice(0, 32)}@${domain}>`;
  return n.kind === "firing" ? { subject, text, html, messageId: thread } : { subject, text, html, messageId: own, inReplyTo: thread };
}

export function createEmailChannel(options: EmailDeployment & {
  settings: EmailSettings; statusUrl?: string; redact: (s: string) => string; budgetMs: number;
}): Channel {
  const { settings } = options;
  const url = new URL(options.url);
  const scrub = (s: string) => createRedactor(secretsOfUrl(options.url, { whole: true }))(options.redact(s));
  const domain = /@([^\s>]+)>?\s*$/.exec(options.from)?.[1] ?? "beacon-sentinel.invalid";
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  const secure = url.protocol === "smtps:";
  return {
    name: "email",
    budgetMs: options.budgetMs,
    async deliver(owed) {
      const started = performance.now();
      const delivered: string[] = [];
      const abandoned: string[] = [];
      const errors: string[] = [];
      for (const [i, n] of owed.entries()) {
        if (n.kind === "reminder") {
          delivered.push(n.id);
          continue;
        }
        const left = options.budgetMs - (performance.now() - started);
        if (left < settings.requestTimeoutMs) {
          errors.push(`no time left for ${owed.length - i} message(s); kept for the next tick`);
          break;
        }
        const message = emailMessage(n, { redact: options.redact, statusUrl: options.statusUrl, subjectPrefix: settings.subjectPrefix, domain });
        const sent = await sendOne(message, left);
        if (sent.ok) {
          delivered.push(n.id);
          continue;
        }
        errors.push(scrub(`email: ${sent.error}`));
        if (sent.bodySent) {
          // The server may have queued it: never sent again, counted.
          abandoned.push(n.id);
          break;
        }
        // A 5xx concerns this message (a refused recipient, say); anything else would meet the rest too.
        if (!sent.permanent) break;
      }
      return { delivered, abandoned, ...(errors.length ? { error: errors.join("; ").slice(0, 500) } : {}) };
    },
  };

  async function sendOne(message: EmailMessage, budgetMs: number): Promise<{ ok: true } | { ok: false; error: string; bodySent: boolean; permanent: boolean }> {
    let bodySent = false;
    const quiet = () => undefined;
    // nodemailer logs "<N bytes encoded mime message>" once the body has been written to the server.
    const logger = { trace: quiet, debug: quiet, warn: quiet, error: quiet, fatal: quiet, info: (data: unknown) => { if ((data as { tnx?: string })?.tnx === "message") bodySent = true; } };
    // Loaded when mail is sent: the functions that only read the channel catalog (its settings) never pay for it.
    const { createTransport } = await import("nodemailer");
    const transport = createTransport({
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port ? Number(url.port) : secure ? 465 : 587,
      secure,
      requireTLS: !secure && !loopback,
      ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
      connectionTimeout: settings.requestTimeoutMs,
      greetingTimeout: settings.requestTimeoutMs,
      socketTimeout: settings.requestTimeoutMs,
      disableFileAccess: true,
      disableUrlAccess: true,
      logger,
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const overrun = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(budgetMs)} ms`)), budgetMs);
      });
      await Promise.race([
        transport.sendMail({
          from: options.from, to: options.to, subject: message.subject, text: message.text, html: message.html,
          messageId: message.messageId, ...(message.inReplyTo ? { inReplyTo: message.inReplyTo, references: [message.inReplyTo] } : {}),
        }),
        overrun,
      ]);
      return { ok: true };
    } catch (error) {
      const e = error as Error & { code?: string; responseCode?: number; timeoutType?: string };
      const code = e.responseCode ? ` (${e.responseCode})` : e.code ? ` (${e.code}${e.timeoutType ? ` ${e.timeoutType}` : ""})` : "";
      return { ok: false, error: `${url.hostname}: ${e.message}${code}`, bodySent, permanent: (e.responseCode ?? 0) >= 500 };
    } finally {
      clearTimeout(timer);
      transport.close();
    }
  }
}

function budgetLine(b: NonNullable<Notification["budget"]>): string {
  const parts = [
    b.burnRate !== null ? `burning ${b.burnRate.toFixed(1)}x` : null,
    b.remaining !== null ? `${Math.round(b.remaining * 100)}% of the budget left` : null,
    `windows ${b.windows}`,
  ];
  return parts.filter(Boolean).join(", ");
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function oneLine(s: string, max: number): string {
  return clip(s.replace(/[\r\n\t]+/g, " "), max);
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + "…";
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}
