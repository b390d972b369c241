import { z } from "zod";

/**
 * Beacon's execution receipt (`pkg/models` Receipt; contract sheet §5) and the two documented shapes
 * of its answers. The schema is the one `Website/production-hardening-tests.md` proposes: `output.data`
 * is exactly one of the direct and the nested variant (JSON Schema `oneOf`). The legacy mock's single
 * `text_output` is deliberately not accepted: it is the mock-output incident.
 */

const GoMap = z.record(z.string(), z.unknown()).nullable();

/** One answered question (`output.data[.data].responses[]`). */
export const ReceiptResponse = z
  .object({
    question_id: z.string().min(1, "question_id must not be empty"),
    question: z.string(),
    response: z.string(),
    category: z.string().optional(),
    context: z.string().optional(),
    /** Seconds. */
    inference_time: z.number().optional(),
    success: z.boolean().optional(),
    error: z.string().nullable().optional(),
  })
  .loose();
export type ReceiptResponse = z.infer<typeof ReceiptResponse>;

/** Container / direct variant: `output.data.responses[]`. */
export const DirectOutputData = z.object({ responses: z.array(ReceiptResponse) }).loose();

/** Golem structured variant: `output.data.data.responses[]`, with `summary` and `output.data.metadata`. */
export const NestedOutputData = z
  .object({
    data: z
      .object({
        responses: z.array(ReceiptResponse),
        summary: z
          .object({
            total_questions: z.number().optional(),
            successful_responses: z.number().optional(),
            failed_responses: z.number().optional(),
            total_inference_time: z.number().optional(),
          })
          .loose()
          .optional(),
      })
      .loose(),
    metadata: GoMap.optional(),
  })
  .loose();

/** The legacy mock's answer: one blob of text, no per-question answers. Recognised, never accepted. */
export const LegacyTextOutputData = z.object({ text_output: z.string() }).loose();

/** `output.data`: exactly one of the two documented variants. */
export const ReceiptOutputData = z.xor([DirectOutputData, NestedOutputData]);

export const Receipt = z
  .object({
    schema_version: z.string(),
    /** Receipt id (`receipt-<unixnano>`), shown as `receipt_id` by the executions API. */
    id: z.string(),
    jobspec_id: z.string(),
    execution_details: z
      .object({
        task_id: z.string().optional(),
        provider_id: z.string().optional(),
        region: z.string().optional(),
        started_at: z.string().optional(),
        completed_at: z.string().optional(),
        /** Go time.Duration: integer nanoseconds. */
        duration: z.number().optional(),
        status: z.string().optional(),
      })
      .loose(),
    output: z.object({ data: ReceiptOutputData, hash: z.string(), metadata: GoMap.optional() }).loose(),
    cross_region_data: z.unknown().optional(),
    provenance: z
      .object({ benchmark_hash: z.string().optional(), provider_info: GoMap.optional(), execution_env: GoMap.optional() })
      .loose()
      .optional(),
    attestations: z.array(z.object({}).loose()).nullable().optional(),
    created_at: z.string(),
    /** Ed25519 over the canonical JSON with `signature` and `public_key` zeroed. */
    signature: z.string(),
    public_key: z.string(),
  })
  .loose();
export type Receipt = z.infer<typeof Receipt>;

/** Which `output.data` variant a receipt carries, judged leniently (before full validation). */
export type OutputVariant = "direct" | "nested" | "legacy-text" | "unknown";

export function outputVariant(receipt: unknown): OutputVariant {
  const data = field(field(receipt, "output"), "data");
  if (Array.isArray(field(data, "responses"))) return "direct";
  if (Array.isArray(field(field(data, "data"), "responses"))) return "nested";
  if (typeof field(data, "text_output") === "string") return "legacy-text";
  return "unknown";
}

/** The answers of a valid receipt, whichever variant it uses. */
export function receiptResponses(receipt: Receipt): ReceiptResponse[] {
  const data = receipt.output.data;
  return "responses" in data && Array.isArray(data.responses) ? data.responses : (data as z.infer<typeof NestedOutputData>).data.responses;
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}
