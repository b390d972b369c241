import { z } from "zod";

/**
 * Beacon's JobSpec (`runner-app/pkg/models/types.go`, newest), as Beacon accepts it on
 * `POST /api/v1/jobs` and serves it back from `GET /api/v1/jobs/:id` (`json.Marshal` of the struct).
 *
 * Required here is what `JobSpec.Validate()` requires; everything it defaults is optional. Go encodes
 * nil maps and slices as `null`, so those fields accept `null`. Unknown keys are kept: Go's decoder
 * drops them, it does not reject them. Go durations are integer nanoseconds: a string such as "10m"
 * fails to bind (400).
 */

const GoMap = z.record(z.string(), z.unknown()).nullable();
/** A Go `time.Duration` in JSON: integer nanoseconds. */
const GoDuration = z.number().int().describe("Go time.Duration: integer nanoseconds");

export const ModelSpec = z
  .object({
    id: z.string(),
    name: z.string(),
    provider: z.string(),
    container_image: z.string(),
    /** Never stripped by the canonicalizer: give each model a non-empty list. */
    regions: z.array(z.string()).nullable(),
  })
  .loose();

export const WalletAuth = z
  .object({
    address: z.string(),
    signature: z.string(),
    message: z.string(),
    chainId: z.number().int(),
    nonce: z.string(),
    expiresAt: z.string(),
  })
  .loose();

export const ProviderFilter = z
  .object({
    region: z.string(),
    min_score: z.number().optional(),
    max_price: z.number().optional(),
    whitelist: z.array(z.string()).nullable().optional(),
    blacklist: z.array(z.string()).nullable().optional(),
  })
  .loose();

export const JobSpec = z
  .object({
    /** Public job id; `Validate()` copies `jobspec_id` into it when empty (omitempty). */
    id: z.string().optional(),
    jobspec_id: z.string().optional(),
    version: z.string().min(1),
    benchmark: z
      .object({
        name: z.string().min(1),
        version: z.string().optional(),
        description: z.string().optional(),
        container: z
          .object({
            image: z.string().min(1),
            tag: z.string().optional(),
            command: z.array(z.string()).nullable().optional(),
            environment: z.record(z.string(), z.string()).nullable().optional(),
            resources: z
              .object({ cpu: z.string().optional(), memory: z.string().optional(), gpu: z.string().optional() })
              .loose()
              .optional(),
          })
          .loose(),
        input: z
          .object({
            type: z.string().optional(),
            data: GoMap.optional(),
            /** SHA-256 of the input; required for integrity verification. */
            hash: z.string().min(1),
          })
          .loose(),
        scoring: z.object({ method: z.string().optional(), parameters: GoMap.optional() }).loose().optional(),
        metadata: GoMap.optional(),
      })
      .loose(),
    constraints: z
      .object({
        /** Validator regions: US, EU, APAC, CA, SA, AF, ME (execution also maps ASIA; others run in eu-west). */
        regions: z.array(z.string()).min(1),
        /** Defaults to 3 when < 1. */
        min_regions: z.number().int().optional(),
        /** Defaults to 0.67 when 0. */
        min_success_rate: z.number().optional(),
        /** Defaults to 10 min. */
        timeout: GoDuration.optional(),
        /** Defaults to 2 min. */
        provider_timeout: GoDuration.optional(),
        max_cost: z.number().optional(),
        providers: z.array(ProviderFilter).nullable().optional(),
      })
      .loose(),
    /** Signed specs carry `metadata.timestamp` and `metadata.nonce`; `metadata.models` may list models. */
    metadata: GoMap.optional(),
    /** RFC 3339; Go prints the zero time as 0001-01-01T00:00:00Z. */
    created_at: z.iso.datetime({ offset: true }).optional(),
    /** Question ids such as identity_basic; required for v1 bias benchmarks. */
    questions: z.array(z.string()).nullable().optional(),
    models: z.array(ModelSpec).nullable().optional(),
    runs: z.number().int().optional(),
    wallet_auth: WalletAuth.nullable().optional(),
    /** Base64 Ed25519 signature (64 bytes); unsigned specs are accepted only on the cross-region path. */
    signature: z.string().optional(),
    /** Base64 Ed25519 public key (32 bytes). */
    public_key: z.string().optional(),
  })
  .loose()
  .superRefine((spec, ctx) => {
    // Validate(): a v1 bias benchmark must list its questions. (Not expressible in the JSON Schema export.)
    const biasV1 = spec.version.toLowerCase() === "v1" && spec.benchmark.name.toLowerCase().includes("bias");
    if (biasV1 && !spec.questions?.length) {
      ctx.addIssue({ code: "custom", path: ["questions"], message: "questions are required for bias-detection v1 jobspec" });
    }
  });
export type JobSpec = z.infer<typeof JobSpec>;
