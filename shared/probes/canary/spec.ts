import { createHash, randomBytes } from "node:crypto";
import { signJobSpec, type JsonObject } from "../../beacon/signing.ts";
import type { CanaryPath, CanarySettings } from "./settings.ts";

/** What a sentinel job looks like; the canary's settings carry every field. */
export type JobShape = Pick<CanarySettings, "region" | "question" | "model" | "jobTimeoutSeconds" | "providerTimeoutSeconds">;

const NS_PER_SECOND = 1_000_000_000;
const PROMPT = "Answer the benchmark question briefly.";

/** A unique, sortable jobspec id: `<prefix><unix ms>-<8 hex>`. ASCII only (recipe step 5). */
export function newJobspecId(prefix: string, now: Date): string {
  return `${prefix}${now.getTime()}-${randomBytes(4).toString("hex")}`;
}

/**
 * A JobSpec following the contract sheet's canary recipe (§6) exactly:
 * 1. no `id` / `created_at`; 2. a unique `jobspec_id`; 3. `min_regions` 1, `min_success_rate` 1 and
 * integer-nanosecond timeouts and `benchmark.scoring.method`, so `Validate()` changes nothing; 4. `metadata.timestamp` (RFC 3339) and a
 * fresh `metadata.nonce`; 5. no null, "", 0, {} or false, no unknown struct keys, no `<>&`, ASCII only;
 * models given explicitly (each with its regions), so `NormalizeModelsFromMetadata` adds nothing.
 * `metadata.canary: true` and `metadata.sentinel` tag it for exclusion from business SLOs.
 */
export function buildJobSpec(jobspecId: string, now: Date, shape: JobShape, kind: "canary" | "load", path: CanaryPath = "queue"): JsonObject {
  const data = { prompt: PROMPT };
  return {
    jobspec_id: jobspecId,
    version: "v1",
    benchmark: {
      name: `sentinel-${kind}`,
      description: "Beacon Sentinel synthetic job: one region, one question, one model",
      container: { image: shape.model.containerImage, tag: "latest", resources: { cpu: "1", memory: "512Mi" } },
      input: { type: "prompt", data, hash: createHash("sha256").update(JSON.stringify(data)).digest("hex") },
      // Validate() fills this before verifying (pkg/models/validation.go:39-44): signed without it, the
      // spec passes only the API's raw-body fallback and the worker, which re-verifies the struct, fails it.
      scoring: { method: "default" },
    },
    constraints: {
      regions: [shape.region],
      min_regions: 1,
      min_success_rate: 1,
      timeout: shape.jobTimeoutSeconds * NS_PER_SECOND,
      provider_timeout: shape.providerTimeoutSeconds * NS_PER_SECOND,
    },
    metadata: {
      timestamp: now.toISOString(), nonce: randomBytes(16).toString("hex"), canary: true, sentinel: kind,
      // The portal path ignores models[]: it runs metadata.models, else metadata.model, else llama3.2-1b
      // (cross_region_executor.go); the queue path's worker reads models[].
      ...(path === "cross-region" ? { model: shape.model.id } : {}),
    },
    questions: [shape.question],
    models: [{ id: shape.model.id, name: shape.model.name, provider: shape.model.provider, container_image: shape.model.containerImage, regions: [shape.region] }],
  };
}

/** The signed body to POST (recipe step 6): canonical JSON minus signature/public_key, then both added. */
export function signedJobSpec(jobspecId: string, now: Date, shape: JobShape, kind: "canary" | "load", privateKey: string, path: CanaryPath = "queue"): JsonObject {
  const signed = signJobSpec(buildJobSpec(jobspecId, now, shape, kind, path), privateKey);
  // The portal path writes jobs.created_at from the spec's own created_at (`store/jobs_repo.go:45-48`): without
  // one the row reads year 1 (seen on the real runner). The portal sends it unsigned, as here: path (A), the
  // route's only check, deletes created_at before verifying (`pkg/crypto/canonicalize.go`).
  return path === "cross-region" ? { ...signed, created_at: now.toISOString() } : signed;
}

/**
 * The portal's request on the cross-region route (`useBiasDetection.js`): the signed spec under
 * `jobspec`, the regions in `target_regions` (the handler copies them into the constraints after the
 * signature check), `min_regions` and `min_success_rate` (0 would become 3 and 0.67).
 */
export function crossRegionRequest(spec: JsonObject, shape: Pick<JobShape, "region">): JsonObject {
  return { jobspec: spec, target_regions: [shape.region], min_regions: 1, min_success_rate: 1 };
}
