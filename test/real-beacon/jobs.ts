/**
 * The jobs users submit to Beacon's runner, built and signed the way each client builds and signs
 * them. Our code, mirroring (not importing) Beacon's clients; file:line refer to
 * jamie-anson/Project-Beacon at main 5442b72.
 *
 * - `portal`: the portal's bias-detection submit, `Website/portal/src/hooks/useBiasDetection.js:223-273`
 *   (spec with `id: bias-detection-<ms>`, `version: v1`, `metadata.models`, `runs: 1`, questions,
 *   `min_success_rate` undefined, integer-ns timeouts), signed by
 *   `Website/portal/src/lib/crypto.js:184-255` (adds `metadata.timestamp`/`nonce`, `created_at` and
 *   `wallet_auth` before signing; signs json-stable-stringify of the spec minus `signature`,
 *   `public_key`, `id`, `created_at`, `crypto.js:46-75`), wrapped as `{jobspec, target_regions,
 *   min_regions, min_success_rate: 0.67, enable_analysis: true}` and POSTed to
 *   `/api/v1/jobs/cross-region` (`Website/portal/src/lib/api/runner/jobs.js:44-64`).
 * - `queue`: `POST /api/v1/jobs`, signed as the sentinel's canary signs (canonical JSON of the body
 *   minus `signature`/`public_key`, `shared/beacon/signing.ts`), with `jobspec_id` and no `id` or
 *   `created_at`; models either explicit (`models[]` with regions) or as the portal names them
 *   (`metadata.models`, which the runner normalises before verifying,
 *   `runner-app/internal/api/processors/jobspec_processor.go:107-181,204-206`).
 */
import { createHash, randomBytes } from "node:crypto";
import { publicKeyFromPrivateKey, signJobSpec, signMessage, type JsonObject } from "../../shared/beacon/signing.ts";

const NS = 1_000_000_000;

/** json-stable-stringify as the portal calls it (`{space: 0}`): keys sorted, undefined skipped, JS escaping. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === "function" ? "null" : stableStringify(v))).join(",")}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined && typeof record[k] !== "function").sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(record[k])}`).join(",")}}`;
}

/** crypto.js:46-59 createSignableJobSpec. */
function portalSignable(spec: JsonObject): JsonObject {
  const signable = JSON.parse(JSON.stringify(spec)) as JsonObject;
  for (const key of ["signature", "public_key", "id", "created_at"]) delete signable[key];
  const constraints = signable.constraints as JsonObject | undefined;
  if (constraints?.min_success_rate === 0) delete constraints.min_success_rate;
  return signable;
}

/** crypto.js:118-122 generateNonce: 16 random bytes, base64, first 22 characters. */
function portalNonce(): string {
  return randomBytes(16).toString("base64").slice(0, 22);
}

export interface PortalJobOptions {
  privateKey: string;
  regions: string[];
  models: string[];
  questions: string[];
  now: Date;
}

export interface Submission {
  path: "/api/v1/jobs/cross-region" | "/api/v1/jobs";
  body: JsonObject;
  /** The public job id the runner will use. */
  jobId: string;
  headers?: Record<string, string>;
}

const MODEL_NAMES: Record<string, string> = { "llama3.2-1b": "Llama 3.2-1B", "mistral-7b": "Mistral 7B Instruct", "qwen2.5-1.5b": "Qwen 2.5-1.5B Instruct" };
const MODEL_COST: Record<string, number> = { "llama3.2-1b": 0.0003, "mistral-7b": 0.0004, "qwen2.5-1.5b": 0.00035 };

/** The portal's cross-region submission (useBiasDetection.js:223-263, crypto.js:184-255, wallet.js:473-500). */
export function portalJob(opts: PortalJobOptions): Submission {
  const { regions, models, questions, now } = opts;
  const isMultiModel = models.length > 1;
  const selectedModel = models[0]!;
  // `id: bias-detection-${Date.now()}`; a random suffix keeps 20 concurrent submissions apart.
  const id = `bias-detection-${now.getTime()}${randomBytes(2).readUInt16BE() % 1000}`;
  const spec: JsonObject = {
    id,
    version: "v1",
    benchmark: {
      name: isMultiModel ? "multi-model-bias-detection" : "bias-detection",
      version: "v1",
      description: isMultiModel ? `Multi-model bias detection across ${models.length} models` : "Single-model bias detection",
      container: { image: "ghcr.io/project-beacon/bias-detection:latest", tag: "latest", resources: { cpu: "1000m", memory: "2Gi" } },
      input: { type: "prompt", data: { prompt: questions[0] ?? "What is your opinion on current global events?" }, hash: "sha256:placeholder" },
    },
    constraints: { regions, min_regions: 1, min_success_rate: undefined, timeout: 600 * NS, provider_timeout: 600 * NS },
    metadata: {
      created_by: "portal",
      wallet_address: "", // filled below
      execution_type: regions.length > 1 ? "cross-region" : "single-region",
      estimated_cost: ((MODEL_COST[selectedModel] ?? 0.0003) * regions.length * (questions.length || 1)).toFixed(4),
      multi_model: isMultiModel,
      models,
      total_executions_expected: regions.length * models.length * questions.length,
      model: selectedModel,
      model_name: MODEL_NAMES[selectedModel] ?? selectedModel,
    },
    runs: 1,
    questions,
  };
  // wallet.js:315-384: a wallet address, an EIP-191 signature of "Authorize Project Beacon key: <ed25519 key>".
  const publicKey = publicKeyFromPrivateKey(opts.privateKey);
  const address = `0x${createHash("sha256").update(publicKey).digest("hex").slice(0, 40)}`;
  (spec.metadata as JsonObject).wallet_address = address;
  const iso = now.toISOString();
  const signTarget: JsonObject = {
    ...spec,
    metadata: { ...(spec.metadata as JsonObject), timestamp: iso, nonce: portalNonce() },
    created_at: iso,
    wallet_auth: {
      address,
      signature: `0x${randomBytes(65).toString("hex")}`,
      message: `Authorize Project Beacon key: ${publicKey}`,
      chainId: 1,
      nonce: portalNonce(),
      expiresAt: new Date(now.getTime() + 7 * 24 * 3600 * 1000).toISOString(),
    },
  };
  const signature = signMessage(stableStringify(portalSignable(signTarget)), opts.privateKey);
  const jobspec = JSON.parse(JSON.stringify({ ...signTarget, signature, public_key: publicKey })) as JsonObject;
  return {
    path: "/api/v1/jobs/cross-region",
    jobId: id,
    body: { jobspec, target_regions: regions, min_regions: Math.max(1, Math.floor(regions.length * 0.67)), min_success_rate: 0.67, enable_analysis: true },
  };
}

export interface QueueJobOptions {
  privateKey: string;
  regions: string[];
  questions: string[];
  models: string[];
  /** `explicit`: `models[]` with regions (the canary's recipe); `metadata`: `metadata.models` as the portal names them. */
  modelsAs: "explicit" | "metadata";
  /**
   * Sign a body that Beacon's `Validate()` leaves as it is: with `benchmark.scoring.method`, which
   * `Validate()` otherwise fills with "default" (`runner-app/pkg/models/validation.go:39-44`). Without
   * it the API accepts the job only through its raw-body fallback, and the worker, which re-verifies
   * the stored spec on the struct path alone (`runner-app/internal/jobspec/validator.go:21-53`),
   * fails it. Default true; false is the canary's recipe as written in `shared/probes/canary/spec.ts`.
   */
  scoring?: boolean;
  now: Date;
  prefix?: string;
}

/** `POST /api/v1/jobs`, signed like the sentinel's canary (contract §6 recipe). */
export function queueJob(opts: QueueJobOptions): Submission {
  const jobId = `${opts.prefix ?? "real-queue-"}${opts.now.getTime()}-${randomBytes(4).toString("hex")}`;
  const data = { prompt: "Answer the benchmark question briefly." };
  const spec: JsonObject = {
    jobspec_id: jobId,
    version: "v1",
    benchmark: {
      name: opts.modelsAs === "metadata" ? "real-runner-multi-model" : "real-runner-queue",
      description: "Beacon Sentinel real-runner measurement job",
      container: { image: "ghcr.io/project-beacon/bias-detection", tag: "latest", resources: { cpu: "1", memory: "512Mi" } },
      input: { type: "prompt", data, hash: createHash("sha256").update(JSON.stringify(data)).digest("hex") },
      ...(opts.scoring === false ? {} : { scoring: { method: "default" } }),
    },
    constraints: { regions: opts.regions, min_regions: 1, min_success_rate: 1, timeout: 600 * NS, provider_timeout: 300 * NS },
    metadata: {
      timestamp: opts.now.toISOString(),
      nonce: randomBytes(16).toString("hex"),
      ...(opts.modelsAs === "metadata" ? { models: opts.models } : { model_id: opts.models[0]! }),
    },
    questions: opts.questions,
    ...(opts.modelsAs === "explicit"
      ? { models: opts.models.map((id) => ({ id, name: MODEL_NAMES[id] ?? id, provider: "hybrid", container_image: "ghcr.io/project-beacon/bias-detection", regions: opts.regions })) }
      : {}),
  };
  return { path: "/api/v1/jobs", jobId, body: signJobSpec(spec, opts.privateKey) };
}

/**
 * The portal's jobspec (signed as the portal signs) sent to the queue route instead: the runner's
 * raw fallback keeps `created_at`, which the portal did not sign.
 */
export function portalSpecToQueue(opts: PortalJobOptions): Submission {
  const portal = portalJob(opts);
  return { path: "/api/v1/jobs", jobId: portal.jobId, body: portal.body.jobspec as JsonObject };
}
