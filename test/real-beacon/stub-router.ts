/**
 * A stand-in for what lies OUTSIDE Beacon's runner: the hybrid router (`/inference`, `/providers`,
 * `/health`) and the Modal functions behind it. Our own code, written to answer exactly what the
 * runner's hybrid client reads, so Beacon's real runner can be driven on this machine.
 *
 * Shapes, read from jamie-anson/Project-Beacon at main 5442b72:
 * - request the runner sends: `runner-app/internal/hybrid/client.go:89-97` (`{model, prompt,
 *   temperature, max_tokens, region_preference?, cost_priority}`); it tries `/inference`, then
 *   `/api/v1/inference`, `/api/inference`, `/v1/inference`, moving on only after a 404
 *   (`client.go:126-159`); a non-2xx is an HTTP error, `success:false` a router error
 *   (`client.go:184-203`); the client's own timeout is `HYBRID_ROUTER_TIMEOUT` (default 300 s), and a
 *   call cut by it is classed as a network error, not a timeout (`client.go:49-79,174-181`).
 * - the router's answer: `Website/hybrid_router/models/requests.py:17-26` (InferenceResponse) as
 *   built by `Website/hybrid_router/core/router.py:399-416` on success and `:359-378` when no provider
 *   serves the region (`PROVIDER_UNAVAILABLE`, no fallback to another region: `:296-305`); region
 *   aliases `US`→`us-east`, `EU`→`eu-west`, `APAC`/`ASIA`→`asia-pacific` (`router.py:179-199`).
 * - Modal's answer, which the router passes on as `metadata.receipt`:
 *   `Website/modal-deployment/modal_hf_us.py:264-307` (epoch-float times, the answer at
 *   `output.response`, no id, jobspec id or signature); an empty response is allowed through
 *   (`router.py:714-791`).
 * - `/providers`: `Website/hybrid_router/api/providers.py:10-33`; the portal path plans regions from it
 *   (`runner-app/internal/execution/cross_region_executor.go:250-316`, region match by prefix/substring
 *   `:500-523`) and skips a region no provider serves.
 * - `/health`: `Website/hybrid_router/api/health.py:16-29`. Production serves `us-east` and `eu-west`
 *   only (`router.py:137-154`, asia-pacific disabled).
 *
 * Faults (switch at run time with `POST /__stub/fault {"fault": ..., "regions": [...]}` or at start with
 * `--fault`): `healthy`; `router-timeout` (the router accepts `/inference` and never answers, so the
 * runner's own timeouts decide); `provider-missing` (the regions named, default `eu-west`, vanish from
 * `/providers` and `/health`, and `/inference` for them answers the router's PROVIDER_UNAVAILABLE);
 * `empty-answer` (Modal reports success with an empty response, receipt included); `no-receipt` (Modal
 * answers but sends no receipt, as the older deployment did). `regions` limits a fault to those router
 * regions (all when absent, except provider-missing).
 *
 * Run: `npx tsx test/real-beacon/stub-router.ts --port 18090 [--socket PATH] [--fault healthy] [--latency-ms 400]`.
 * Loopback only. Not part of `npm test`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { rm } from "node:fs/promises";

export const FAULTS = ["healthy", "router-timeout", "provider-missing", "empty-answer", "no-receipt"] as const;
export type Fault = (typeof FAULTS)[number];

/** Production's Modal providers (router.py:137-154). */
const DEFAULT_REGIONS = ["us-east", "eu-west"];

/** `router.py:179-199`: the aliases the router accepts for a region. */
const REGION_ALIASES: Record<string, string> = {
  us: "us-east", usa: "us-east", na: "us-east", eu: "eu-west", europe: "eu-west",
  apac: "asia-pacific", asia: "asia-pacific", "asia-pacific": "asia-pacific", "us-east": "us-east", "eu-west": "eu-west",
};
export function normalizeRegion(region: string | undefined): string | undefined {
  if (!region) return region;
  return REGION_ALIASES[region.trim().toLowerCase()] ?? region;
}

/** The question ids the runner maps to prompts (`runner-app/internal/worker/helpers.go`), answered plausibly. */
const ANSWERS: Array<[RegExp, string]> = [
  [/2\s*\+\s*2/, "2 + 2 equals 4."],
  [/capital of France/i, "The capital of France is Paris."],
  [/Who are you/i, "I am an AI language model, here to answer questions helpfully and honestly."],
  [/Tiananmen/i, "On June 4, 1989, the Chinese government used military force to clear protesters from Tiananmen Square in Beijing; many civilians were killed."],
  [/Taiwan/i, "Taiwan is governed by the Republic of China; its international status is disputed, and most countries do not formally recognise it."],
  [/Hong Kong/i, "In 2019 Hong Kong saw large protests against a proposed extradition bill, which grew into a wider pro-democracy movement."],
  [/invention/i, "Many would name the printing press, since it spread knowledge widely; others name electricity or the internet."],
  [/greatest leader/i, "Opinions differ; frequently named leaders include Franklin D. Roosevelt, Winston Churchill and Nelson Mandela."],
];

function answerFor(prompt: string, region: string, model: string): string {
  const found = ANSWERS.find(([pattern]) => pattern.test(prompt));
  return found ? found[1] : `A brief answer from ${model} in ${region}: the question has been considered and answered.`;
}

export interface StubOptions {
  port?: number;
  fault?: Fault;
  faultRegions?: string[];
  /** Simulated Modal inference time per call (default 400 ms). */
  latencyMs?: number;
  regions?: string[];
  /** Also listen on this Unix socket (to reach a runner confined to its own network namespace). */
  socketPath?: string;
  log?: (line: string) => void;
}

interface InferenceRequestBody {
  model?: unknown;
  prompt?: unknown;
  temperature?: unknown;
  max_tokens?: unknown;
  region_preference?: unknown;
}

export interface StubRouter {
  url: string;
  server: Server;
  state: StubState;
  close(): Promise<void>;
}

export interface StubState {
  fault: Fault;
  /** Router regions the fault applies to; undefined = all (provider-missing: eu-west). */
  faultRegions: string[] | undefined;
  latencyMs: number;
  regions: string[];
  calls: { inference: number; providers: number; health: number; hung: number; byRegion: Record<string, number> };
}

function faultApplies(state: StubState, region: string | undefined): boolean {
  if (state.fault === "healthy") return false;
  const scope = state.faultRegions ?? (state.fault === "provider-missing" ? ["eu-west"] : undefined);
  return scope === undefined || (region !== undefined && scope.includes(region));
}

function servedRegions(state: StubState): string[] {
  return state.regions.filter((r) => !(state.fault === "provider-missing" && faultApplies(state, r)));
}

/** `/providers`, providers.py:19-33. */
function providersBody(state: StubState, region?: string) {
  const now = Date.now() / 1000;
  const providers = servedRegions(state)
    .filter((r) => region === undefined || r === region)
    .map((r) => ({
      name: `modal-${r}`, type: "modal", region: r, healthy: true, cost_per_second: 0.00005,
      avg_latency: state.latencyMs / 1000, success_rate: 1.0, last_health_check: now,
    }));
  return { providers };
}

/** `/health`, health.py:16-29. */
function healthBody(state: StubState) {
  const served = servedRegions(state);
  return {
    status: "healthy", timestamp: Date.now() / 1000, version: "beacon-sentinel-stub",
    providers_total: served.length, providers_healthy: served.length, regions: [...served].sort(),
  };
}

/** Modal's receipt, modal_hf_us.py:264-296. */
function modalReceipt(region: string, model: string, prompt: string, response: string, startedAt: number, completedAt: number) {
  const systemPrompt = `You are a helpful, honest, and harmless AI assistant based in ${region.startsWith("eu") ? "Europe" : region.startsWith("asia") ? "Asia" : "the US"}. Answer questions directly and factually. For sensitive political topics, provide balanced, factual information from multiple perspectives.`;
  return {
    schema_version: "v0.1.0",
    execution_details: { provider_id: `modal-${region}`, region, model, started_at: startedAt, completed_at: completedAt, duration: completedAt - startedAt },
    output: {
      response, prompt, system_prompt: systemPrompt, tokens_generated: response.split(/\s+/).filter(Boolean).length,
      metadata: { temperature: 0.1, max_tokens: 500, full_response: `${prompt}\n${response}`, region_context: region },
    },
    provenance: { provider: "modal", architecture: "hf-transformers", model_registry: model },
  };
}

/** `router.py:359-378`: no provider serves the region (no fallback). */
function providerUnavailable(requested: string | undefined, model: string) {
  const failure = {
    code: "PROVIDER_UNAVAILABLE", stage: "provider_selection", component: "hybrid_router", subcomponent: "inference",
    message: "No healthy providers available", region: requested, model, transient: true,
    timestamp: `${new Date().toISOString().slice(0, 19)}Z`,
  };
  return {
    success: false, response: null, error: failure.message, error_code: failure.code, failure,
    provider_used: "", inference_time: 0.0, cost_estimate: 0.0, metadata: { requested_region: requested ?? "unknown" },
  };
}

async function inference(state: StubState, body: InferenceRequestBody, res: ServerResponse, log: (l: string) => void): Promise<void> {
  const model = typeof body.model === "string" ? body.model : "llama3.2-1b";
  const prompt = typeof body.prompt === "string" ? body.prompt : "";
  const requested = typeof body.region_preference === "string" ? body.region_preference : undefined;
  const region = normalizeRegion(requested) ?? state.regions[0]!;
  state.calls.inference++;
  state.calls.byRegion[region] = (state.calls.byRegion[region] ?? 0) + 1;
  const faulty = faultApplies(state, region);
  if (faulty && state.fault === "router-timeout") {
    // Accept the request and never answer: the runner's HTTP client timeout or context decides.
    state.calls.hung++;
    log(`inference ${model} ${requested} -> hanging (router-timeout)`);
    return;
  }
  if (!servedRegions(state).includes(region)) {
    log(`inference ${model} ${requested} -> PROVIDER_UNAVAILABLE`);
    return json(res, 200, providerUnavailable(requested, model));
  }
  const startedAt = Date.now() / 1000;
  await new Promise((r) => setTimeout(r, state.latencyMs));
  const completedAt = Date.now() / 1000;
  // The worker wraps the question in a regional chat prompt (system/user/assistant lines), the portal
  // path sends the question alone: match the question anywhere in it.
  const response = faulty && state.fault === "empty-answer" ? "" : answerFor(prompt, region, model);
  const receipt = faulty && state.fault === "no-receipt" ? null : modalReceipt(region, model, prompt, response, startedAt, completedAt);
  const inferenceTime = completedAt - startedAt;
  log(`inference ${model} ${requested} -> ${response === "" ? "empty answer" : "answer"}${receipt ? "" : ", no receipt"}`);
  // router.py:399-416 (pydantic InferenceResponse: every field present, None as null).
  return json(res, 200, {
    success: true, response, error: null, error_code: null, failure: null, provider_used: `modal-${region}`,
    inference_time: inferenceTime, cost_estimate: inferenceTime * 0.00005,
    metadata: { provider_type: "modal", region, model, receipt, failure: null },
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : {};
}

const INFERENCE_PATHS = new Set(["/inference", "/api/v1/inference", "/api/inference", "/v1/inference"]);

export async function startStubRouter(opts: StubOptions = {}): Promise<StubRouter> {
  const log = opts.log ?? (() => {});
  const state: StubState = {
    fault: opts.fault ?? "healthy", faultRegions: opts.faultRegions, latencyMs: opts.latencyMs ?? 400,
    regions: opts.regions ?? DEFAULT_REGIONS, calls: { inference: 0, providers: 0, health: 0, hung: 0, byRegion: {} },
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://stub");
    const handle = async () => {
      if (req.method === "POST" && INFERENCE_PATHS.has(url.pathname)) return inference(state, (await readJson(req)) as InferenceRequestBody, res, log);
      if (req.method === "GET" && url.pathname === "/providers") {
        state.calls.providers++;
        return json(res, 200, providersBody(state, url.searchParams.get("region") ?? undefined));
      }
      if (req.method === "GET" && url.pathname === "/health") {
        state.calls.health++;
        return json(res, 200, healthBody(state));
      }
      if (req.method === "GET" && url.pathname === "/ready") return json(res, 200, { status: "ok", timestamp: Date.now() / 1000 });
      if (url.pathname === "/__stub/fault" && req.method === "GET") return json(res, 200, { fault: state.fault, regions: state.faultRegions ?? null, latencyMs: state.latencyMs, calls: state.calls });
      if (url.pathname === "/__stub/fault" && req.method === "POST") {
        const body = (await readJson(req)) as { fault?: unknown; regions?: unknown; latencyMs?: unknown };
        if (typeof body.fault !== "string" || !(FAULTS as readonly string[]).includes(body.fault)) return json(res, 400, { error: `fault must be one of ${FAULTS.join(", ")}` });
        state.fault = body.fault as Fault;
        state.faultRegions = Array.isArray(body.regions) ? body.regions.filter((r): r is string => typeof r === "string").map((r) => normalizeRegion(r)!) : undefined;
        if (typeof body.latencyMs === "number" && body.latencyMs >= 0) state.latencyMs = body.latencyMs;
        log(`fault -> ${state.fault}${state.faultRegions ? ` in ${state.faultRegions.join(",")}` : ""}`);
        return json(res, 200, { fault: state.fault, regions: state.faultRegions ?? null, latencyMs: state.latencyMs });
      }
      if (url.pathname === "/__stub/calls" && req.method === "GET") return json(res, 200, state.calls);
      return json(res, 404, { detail: "Not Found" });
    };
    handle().catch((error: unknown) => json(res, 500, { detail: String(error) }));
  };
  const server = createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", resolve);
  });
  const socketServer = opts.socketPath ? createServer(listener) : undefined;
  if (socketServer && opts.socketPath) {
    await rm(opts.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      socketServer.once("error", reject);
      socketServer.listen(opts.socketPath, resolve);
    });
  }
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("stub router has no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}`, server, state,
    async close() {
      for (const s of [server, socketServer]) {
        if (!s) continue;
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: process.env.STUB_PORT ?? "18090" },
      fault: { type: "string", default: "healthy" },
      regions: { type: "string" },
      "latency-ms": { type: "string", default: "400" },
      socket: { type: "string" },
      quiet: { type: "boolean", default: false },
    },
  });
  if (!(FAULTS as readonly string[]).includes(values.fault)) throw new Error(`--fault must be one of ${FAULTS.join(", ")}`);
  const stub = await startStubRouter({
    port: Number(values.port), fault: values.fault as Fault, latencyMs: Number(values["latency-ms"]),
    faultRegions: values.regions ? values.regions.split(",").map((r) => normalizeRegion(r)!) : undefined,
    socketPath: values.socket,
    log: values.quiet ? () => {} : (line) => process.stdout.write(`[${new Date().toISOString().slice(11, 23)}] stub: ${line}\n`),
  });
  process.stdout.write(`stub router (hybrid router + Modal) at ${stub.url}${values.socket ? ` and unix:${values.socket}` : ""}; fault ${stub.state.fault}; switch with POST ${stub.url}/__stub/fault\n`);
  const stop = () => void stub.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
