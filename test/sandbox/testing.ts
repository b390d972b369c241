/**
 * Test harness for the sandbox: one isolated Postgres schema and Redis key prefix per harness (from
 * test/support), JobSpec fixtures, and `waitFor`, which polls instead of sleeping so that tests do
 * not depend on wall-clock speed.
 */
import type { Redis } from "ioredis";
import { createDirectRedis, testServices } from "../support/env.ts";
import { isolatedDatabase, randomPrefix, type IsolatedDatabase } from "../support/isolation.ts";
import { startSandbox, type Sandbox, type SandboxOptions } from "./index.ts";

/** Fast timings for tests; every one still goes through the same code paths as the defaults. */
export const FAST = { publisherIntervalMs: 25, workerIntervalMs: 25, executionDelayMs: 10, slowWorkerDelayMs: 60_000 } as const;

export interface Harness {
  db: IsolatedDatabase;
  prefix: string;
  /** A direct client for assertions on Beacon's keys (the sandboxes get their own). */
  redis: Redis;
  /** Starts a sandbox on this harness's schema and prefix; closed by `close()`. */
  start(overrides?: Partial<SandboxOptions>): Promise<Sandbox>;
  close(): Promise<void>;
}

export async function createHarness(): Promise<Harness> {
  const services = testServices();
  const db = await isolatedDatabase(services);
  const prefix = randomPrefix();
  const redis = createDirectRedis(services);
  const sandboxes: Sandbox[] = [];
  return {
    db,
    prefix,
    redis,
    async start(overrides = {}) {
      const sandbox = await startSandbox({
        sql: { connectionString: db.connectionString, wsProxy: services.postgres.wsProxy },
        redis: () => createDirectRedis(services),
        queueName: `${prefix}jobs`,
        redisKeyPrefix: prefix,
        ...FAST,
        ...overrides,
      });
      sandboxes.push(sandbox);
      return sandbox;
    },
    async close() {
      await Promise.all(sandboxes.splice(0).map((s) => s.close()));
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await db.drop();
    },
  };
}

/** Polls `probe` until it returns a value other than undefined/false; throws with the last value on timeout. */
export async function waitFor<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    last = value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let counter = 0;

/** A JobSpec that passes Validate() unchanged (the canary recipe), with a unique jobspec_id and nonce. */
export function jobSpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  const id = `sandbox-test-${Date.now()}-${counter}`;
  return {
    jobspec_id: id,
    version: "v1",
    benchmark: {
      name: "sentinel-canary",
      container: { image: "ghcr.io/jamie-anson/project-beacon/llama-3.2-1b", tag: "latest", resources: { cpu: "1", memory: "512Mi" } },
      input: { type: "prompt", data: { prompt: "What is 2+2?" }, hash: "a".repeat(64) },
    },
    constraints: { regions: ["US"], min_regions: 1, min_success_rate: 1, timeout: 600000000000, provider_timeout: 120000000000 },
    metadata: { timestamp: new Date().toISOString(), nonce: `nonce-${id}` },
    questions: ["math_basic"],
    ...overrides,
  };
}

export interface HttpResult<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** fetch + JSON decode (text kept for non-JSON bodies). */
export async function call<T = any>(url: string, init: RequestInit & { json?: unknown } = {}): Promise<HttpResult<T>> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  const response = await fetch(url, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text, headers: response.headers };
}

/** Submits a spec and returns the response. */
export function submit(sandbox: Sandbox, spec: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  return call(`${sandbox.url}/api/v1/jobs`, { method: "POST", json: spec, headers });
}

/** Waits for a job to reach `status` and returns GET /api/v1/jobs/:id?include=executions. */
export async function waitForStatus(sandbox: Sandbox, id: string, status: string, timeoutMs = 15_000): Promise<HttpResult> {
  return waitFor(
    async () => {
      const result = await call(`${sandbox.url}/api/v1/jobs/${encodeURIComponent(id)}?include=executions`);
      return result.body?.status === status ? result : undefined;
    },
    `job ${id} to be ${status}`,
    timeoutMs,
  );
}
