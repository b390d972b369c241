import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { SMTPServer } from "smtp-server";
import { simpleParser, type ParsedMail } from "mailparser";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime, storedState, tickRecorder } from "./support/sentinel.ts";
import { createEmailChannel, emailMessage, EmailSettings } from "../shared/channels/email.ts";
import { loadConfig } from "../shared/config/index.ts";
import { routeOf, DEFAULT_ROUTES } from "../shared/channels/routes.ts";
import { createRedactor } from "../shared/redact.ts";
import type { Notification } from "../shared/alerting/notification.ts";
import type { Runtime } from "../netlify/runtime.ts";

/**
 * Email against a real SMTP server: smtp-server (the maintained server half of nodemailer's project)
 * listening on a real port with AUTH, each message parsed by mailparser. Also servers that hang: one
 * that never greets, one that takes the message and never answers it.
 */

const USER = "sentinel-mailer";
const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;

interface Received { raw: string; mail: ParsedMail; from: string; to: string[] }

/** smtp-server on 127.0.0.1, plain SMTP with AUTH (loopback: the channel allows it without STARTTLS). */
async function startSmtp(o: { hangOnData?: boolean } = {}) {
  const received: Received[] = [];
  const logins: string[] = [];
  const server = new SMTPServer({
    secure: false, disabledCommands: ["STARTTLS"], allowInsecureAuth: true, authMethods: ["PLAIN", "LOGIN"], logger: false,
    onAuth(auth, _session, callback) {
      logins.push(auth.username ?? "");
      if (auth.username === USER && auth.password === PASSWORD) callback(null, { user: USER });
      else callback(new Error("535 bad credentials"));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", async () => {
        if (o.hangOnData) return; // took the message, never answers it
        const raw = Buffer.concat(chunks).toString("utf8");
        received.push({ raw, mail: await simpleParser(raw), from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    received, logins, port,
    url: `smtp://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
type Smtp = Awaited<ReturnType<typeof startSmtp>>;

/** A TCP server that accepts and says nothing: no SMTP greeting, ever. */
async function startSilent(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((s) => void sockets.push(s));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `smtp://${USER}:${PASSWORD}@127.0.0.1:${port}`, close: () => new Promise((resolve) => { sockets.forEach((s) => s.destroy()); server.close(() => resolve()); }) };
}

const NOW = new Date("2026-12-04T12:00:00Z");
const note = (over: Partial<Notification> = {}): Notification => ({
  id: `check/health/runner-health:firing:${NOW.toISOString()}`, kind: "firing", alertKey: "check/health/runner-health", alertType: "check",
  stage: "runner-api", probe: "health", check: "runner-health", severity: "page", title: "runner-health failing",
  message: 'GET /health answered 503 <script>alert(1)</script> token=TOPSECRET-123', observed: 503, threshold: 200,
  evidence: ["http://beacon/health: 503", "job-1 TOPSECRET-123"], evidenceTotal: 12, since: "2026-12-04T11:50:00.000Z",
  nextStep: "Check the runner logs", ...over,
});
const settings = (over: Partial<EmailSettings> = {}) => EmailSettings.parse({ requestTimeoutMs: 600, ...over });

describe("the message", () => {
  it("subject with state and alert; text and HTML with the same facts, redacted before clipping, HTML escaped", () => {
    const redact = createRedactor(["TOPSECRET-123"]);
    const firing = emailMessage(note(), { redact, statusUrl: "https://sentinel.example.org/status", subjectPrefix: "[beacon]", domain: "example.org" });
    expect(firing.subject).toBe("[beacon] [FIRING] runner-health failing (runner-api, page)");
    expect(firing.text).toContain("FIRING: runner-health failing");
    expect(firing.text).toContain("Alert:     check/health/runner-health (check, severity page)");
    expect(firing.text).toContain("Evidence (2 of 12):\n  - http://beacon/health: 503\n  - job-1 [redacted]\n  and 10 more");
    expect(firing.text).toContain("Status page: https://sentinel.example.org/status");
    expect(firing.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(firing.html).not.toContain("<script>");
    for (const part of [firing.subject, firing.text, firing.html]) expect(part).not.toContain("TOPSECRET");
    // The resolution answers the firing message: one thread per alert occurrence.
    const resolved = emailMessage(note({ id: "r1", kind: "resolved", durationMs: 600_000 }), { redact, domain: "example.org" });
    expect(resolved.subject).toBe("[RESOLVED] runner-health failing (runner-api, page)");
    expect(resolved.text).toContain("Since:     2026-12-04T11:50:00.000Z, after 10 min");
    expect(resolved.inReplyTo).toBe(firing.messageId);
    expect(resolved.messageId).not.toBe(firing.messageId);
    expect(firing.messageId).toMatch(/^<[0-9a-f]{32}@example\.org>$/);
    // A title cannot break the header: no line breaks in a subject.
    expect(emailMessage(note({ title: "a\r\nBcc: x@evil.example" }), { redact }).subject).toBe("[FIRING] a Bcc: x@evil.example (runner-api, page)");
  });

  it("routed by severity: pages and tickets by default, warnings not", () => {
    const all = ["slack", "email"];
    expect(routeOf({ severity: "page", alertType: "check", probe: "health" }, DEFAULT_ROUTES, all)).toEqual(["slack", "email"]);
    expect(routeOf({ severity: "ticket", alertType: "slo" }, DEFAULT_ROUTES, all)).toEqual(["slack", "email"]);
    expect(routeOf({ severity: "warning", alertType: "check", probe: "health" }, DEFAULT_ROUTES, all)).toEqual(["slack"]);
  });
});

describe("configuration", () => {
  const base = { BEACON_API_URL: "https://beacon.example.org", SENTINEL_REDIS_REST_URL: "https://r.example.org", SENTINEL_REDIS_REST_TOKEN: "t".repeat(20) };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ ...base, ...env });
      return [];
    } catch (e) {
      return (e as { problems: string[] }).problems;
    }
  };
  const mail = { SENTINEL_EMAIL_FROM: "Beacon Sentinel <alerts@example.org>", SENTINEL_EMAIL_TO: "ops@example.org, oncall@example.org" };

  it.each([
    ["https://u:hunter2-secret@mail.example.org", /^SENTINEL_SMTP_URL: must start with smtps:\/\/ \(TLS\) or smtp:\/\/ \(STARTTLS\), not https:\/\//],
    ["mail.example.org:587 hunter2-secret", /^SENTINEL_SMTP_URL: must start with smtps:\/\/ \(TLS\) or smtp:\/\/ \(STARTTLS\): smtps:\/\/user:password@host:465/],
    ["hunter2-secret", /^SENTINEL_SMTP_URL: must be a URL: smtps:\/\/user:password@host:465/],
    ["smtp://u@mail.example.org:587?x=hunter2-secret", /^SENTINEL_SMTP_URL: must be only user, password, host and port/],
    ["smtp://hunter2-secret@mail.example.org:587", /^SENTINEL_SMTP_URL: names a user without a password/],
  ])("a bad SMTP URL (%s) is a clear problem that does not echo it", (url, message) => {
    const found = problems({ ...mail, SENTINEL_SMTP_URL: url });
    expect(found).toEqual([expect.stringMatching(message)]);
    expect(found.join("\n")).not.toContain("hunter2-secret");
  });

  it("server, sender and recipients come together; addresses are checked; the URL is a secret, whole and its password", () => {
    expect(problems({ SENTINEL_SMTP_URL: "smtps://u:p@mail.example.org" })).toEqual([
      "SENTINEL_EMAIL_FROM: required when SENTINEL_SMTP_URL is set",
      "SENTINEL_EMAIL_TO: required when SENTINEL_SMTP_URL is set",
    ]);
    expect(problems({ SENTINEL_SMTP_URL: "smtps://u:p@mail.example.org", SENTINEL_EMAIL_FROM: "not an address", SENTINEL_EMAIL_TO: "ops@example.org, nope" })).toEqual([
      "SENTINEL_EMAIL_FROM: must be one email address, a@example.org or Name <a@example.org>",
      "SENTINEL_EMAIL_TO: address 2 is not an email address (a@example.org or Name <a@example.org>)",
    ]);
    const url = "smtps://apikey:s3cr%2Ft-pass@mail.example.org:465";
    const config = loadConfig({ ...base, ...mail, SENTINEL_SMTP_URL: url });
    expect(config.channels.email).toEqual({ SENTINEL_SMTP_URL: url, SENTINEL_EMAIL_FROM: "Beacon Sentinel <alerts@example.org>", SENTINEL_EMAIL_TO: ["ops@example.org", "oncall@example.org"] });
    expect(config.secrets).toEqual(expect.arrayContaining([url, "s3cr/t-pass"]));
  });
});

describe("delivery to a real SMTP server", () => {
  let smtp: Smtp;
  beforeAll(async () => void (smtp = await startSmtp()));
  afterAll(async () => smtp?.close());

  const channel = (url: string, over: { budgetMs?: number; redact?: (s: string) => string } = {}) =>
    createEmailChannel({ url, from: "Beacon Sentinel <alerts@example.org>", to: ["ops@example.org"], settings: settings(), redact: over.redact ?? ((s) => s), budgetMs: over.budgetMs ?? 12_000 });

  it("one message per firing or resolved notification, authenticated, both parts; a reminder sends nothing", async () => {
    const from = smtp.received.length;
    const outcome = await channel(smtp.url).deliver([note(), note({ id: "rem", kind: "reminder" }), note({ id: "res", kind: "resolved", durationMs: 60_000 })], { now: NOW, firing: [] });
    expect(outcome).toEqual({ delivered: [note().id, "rem", "res"], abandoned: [] });
    const got = smtp.received.slice(from);
    expect(got.map((r) => r.mail.subject)).toEqual(["[FIRING] runner-health failing (runner-api, page)", "[RESOLVED] runner-health failing (runner-api, page)"]);
    expect(got.every((r) => r.from === "alerts@example.org" && r.to.join() === "ops@example.org")).toBe(true);
    expect(got[0]!.mail.text).toContain("GET /health answered 503");
    expect(got[0]!.mail.html).toContain("<h2");
    expect(got[1]!.mail.inReplyTo).toBe(got[0]!.mail.messageId);
    expect(smtp.logins.at(-1)).toBe(USER);
  });

  it("wrong credentials: kept for the next tick, the error names the server, never the password", async () => {
    const bad = smtp.url.replace(encodeURIComponent(PASSWORD), "wrong-password-xyz");
    const outcome = await channel(bad, { redact: createRedactor(["wrong-password-xyz"]) }).deliver([note()], { now: NOW, firing: [] });
    expect(outcome.delivered).toEqual([]);
    expect(outcome.abandoned).toEqual([]);
    expect(outcome.error).toMatch(/^email: 127\.0\.0\.1: .*535/);
    expect(outcome.error).not.toContain("wrong-password-xyz");
  });

  it("a server that never greets: bounded by the timeout, kept for the next tick", async () => {
    const silent = await startSilent();
    try {
      const t0 = performance.now();
      const outcome = await channel(silent.url).deliver([note()], { now: NOW, firing: [] });
      const took = performance.now() - t0;
      expect(outcome).toMatchObject({ delivered: [], abandoned: [] });
      expect(outcome.error).toMatch(/^email: 127\.0\.0\.1: .*\(ETIMEDOUT/);
      expect(outcome.error).not.toContain(PASSWORD);
      expect(took).toBeLessThan(3_000);
    } finally {
      await silent.close();
    }
  });

  it("a server that takes the message and never answers: bounded, and abandoned (it may have it), never sent twice", async () => {
    const hang = await startSmtp({ hangOnData: true });
    try {
      const t0 = performance.now();
      const outcome = await channel(hang.url).deliver([note(), note({ id: "second" })], { now: NOW, firing: [] });
      expect(performance.now() - t0).toBeLessThan(3_000);
      expect(outcome).toMatchObject({ delivered: [], abandoned: [note().id] });
      expect(outcome.error).toMatch(/ETIMEDOUT/);
    } finally {
      await hang.close();
    }
  });

  it("the whole delivery stays within its budget", async () => {
    const silent = await startSilent();
    try {
      const t0 = performance.now();
      const outcome = await channel(silent.url, { budgetMs: 1_000 }).deliver([note(), note({ id: "b" }), note({ id: "c" })], { now: NOW, firing: [] });
      expect(performance.now() - t0).toBeLessThan(1_800);
      expect(outcome.delivered).toEqual([]);
    } finally {
      await silent.close();
    }
  });
});

describe("through the sentinel's ticks", () => {
  let h: Harness;
  let sandbox: Sandbox;
  let smtp: Smtp;
  let runtimes: Runtime[] = [];
  beforeAll(async () => {
    h = await createHarness();
    sandbox = await h.start();
    smtp = await startSmtp();
  }, 60_000);
  afterAll(async () => {
    await smtp?.close();
    await h?.close();
  });
  afterEach(async () => {
    await Promise.all(runtimes.map((r) => r.close()));
    runtimes = [];
    await sandbox.incidents.reset();
  });

  it("an incident emails exactly one FIRING and one RESOLVED across ticks, parsed by mailparser, with no secret inside", async () => {
    const settingsDoc = { alerting: { defaults: { failuresToTrigger: 2, window: 3, successesToResolve: 2 } }, probes: { health: { latencyWarnMs: 10_000 } }, channels: { email: { requestTimeoutMs: 2_000 } } };
    const env = sentinelEnv(h, sandbox, settingsDoc, {
      SENTINEL_KEY_PREFIX: `${h.prefix}mail${randomBytes(3).toString("hex")}:`, SENTINEL_STATUS_URL: "https://sentinel.example.org/status",
      SENTINEL_SMTP_URL: smtp.url, SENTINEL_EMAIL_FROM: "Beacon Sentinel <alerts@example.org>", SENTINEL_EMAIL_TO: "ops@example.org",
    });
    const rt = sentinelRuntime(env);
    runtimes.push(rt);
    const s = tickRecorder(rt);
    const from = smtp.received.length;

    await sandbox.incidents.set("health-unhealthy", true);
    await s.probe("health");
    await s.probe("health"); // fires
    await s.probe("health"); // still failing: nothing new
    await s.probe("health");
    await sandbox.incidents.set("health-unhealthy", false);
    await s.probe("health");
    await s.probe("health"); // resolves
    await s.probe("health");

    const got = smtp.received.slice(from).filter((r) => /runner-health/.test(r.mail.subject ?? ""));
    expect(got.map((r) => r.mail.subject)).toEqual([
      expect.stringMatching(/^\[FIRING\] .*runner-health.*\(runner-api, page\)$/),
      expect.stringMatching(/^\[RESOLVED\] .*runner-health.*\(runner-api, page\)$/),
    ]);
    expect(smtp.received.slice(from)).toHaveLength(2);
    for (const r of got) {
      expect(r.mail.text).toMatch(/Alert: +check\/health\/runner-health \(check, severity page\)/);
      expect(r.mail.html).toContain("check/health/runner-health");
      expect(r.mail.text).toContain("Status page: https://sentinel.example.org/status");
    }
    expect(got[1]!.mail.inReplyTo).toBe(got[0]!.mail.messageId);
    // No secret of the deployment in what was sent, raw or decoded.
    const secrets = [PASSWORD, encodeURIComponent(PASSWORD), env.BEACON_REDIS_REST_TOKEN!, h.db.connectionString];
    for (const r of got) for (const secret of secrets) expect(`${r.raw}\n${r.mail.text}\n${r.mail.html}`).not.toContain(secret);
    const state = await storedState(rt);
    expect(state.alerts.pending).toEqual([]);
    expect(state.monitoring.channels).toMatchObject({ email: { delivered: 2 } });
  }, 90_000);
});
