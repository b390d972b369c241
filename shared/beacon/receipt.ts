import { z } from "zod";

/**
 * Beacon's execution receipts, in the three shapes its runner really stores (contract sheet §5, §11),
 * and the answers inside them:
 * - the **classic** signed receipt (`pkg/models` Receipt, container / golem path): `output.data` is
 *   exactly one of the direct and the nested variant (JSON Schema `oneOf`, as
 *   `Website/production-hardening-tests.md` proposes); the legacy mock's single `text_output` is
 *   recognised and never accepted (the mock-output incident);
 * - **Modal's** receipt, which the hybrid executor stores as sent (`executor_hybrid.go:204-230`,
 *   `Website/modal-deployment/modal_hf_us.py:264-306`): no id, jobspec_id or signature, epoch-second
 *   floats, the answer at `output.response`;
 * - the **portal** path's receipt (`single_region_executor.go:68-104`): the Go struct again, unsigned
 *   (`signature: ""`), its answer at `output.data.response` with Modal's receipt inside
 *   `output.data.metadata.receipt`.
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

/** The Go `models.Receipt` struct around one `output.data` shape. */
function goReceipt<D extends z.ZodType>(data: D) {
  return z
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
      output: z.object({ data, hash: z.string(), metadata: GoMap.optional() }).loose(),
      cross_region_data: z.unknown().optional(),
      provenance: z
        .object({ benchmark_hash: z.string().optional(), provider_info: GoMap.optional(), execution_env: GoMap.optional() })
        .loose()
        .optional(),
      attestations: z.array(z.object({}).loose()).nullable().optional(),
      created_at: z.string(),
      /** Ed25519 over the canonical JSON with `signature` and `public_key` zeroed; "" on the portal path. */
      signature: z.string(),
      public_key: z.string(),
    })
    .loose();
}

/** The classic receipt: per-question answers in `output.data[.data].responses[]`. */
export const Receipt = goReceipt(ReceiptOutputData);
export type Receipt = z.infer<typeof Receipt>;

/**
 * Modal's receipt (`modal_hf_*.py`), stored by the hybrid executor as `receipt_data` and as
 * `output_data.metadata.receipt`: times are epoch seconds (floats), `duration` is seconds.
 */
export const ModalReceipt = z
  .object({
    schema_version: z.string(),
    execution_details: z
      .object({
        provider_id: z.string().optional(),
        region: z.string().optional(),
        model: z.string().optional(),
        /** Epoch seconds (Python `time.time()`). */
        started_at: z.number(),
        completed_at: z.number(),
        /** Seconds. */
        duration: z.number(),
      })
      .loose(),
    output: z
      .object({
        /** The answer. Modal writes "Response extraction failed" when it could not extract one. */
        response: z.string(),
        prompt: z.string().optional(),
        system_prompt: z.string().nullable().optional(),
        tokens_generated: z.number().optional(),
        metadata: GoMap.optional(),
      })
      .loose(),
    provenance: GoMap.optional(),
  })
  .loose();
export type ModalReceipt = z.infer<typeof ModalReceipt>;

/** The portal path's `output.data` (and its `output_data`): the router's answer and metadata (Modal's receipt inside). */
export const PortalOutputData = z.object({ response: z.string(), metadata: GoMap.optional() }).loose();

/** The portal path's receipt (`single_region_executor.go`): the Go struct, unsigned, answer at `output.data.response`. */
export const PortalReceipt = goReceipt(PortalOutputData);
export type PortalReceipt = z.infer<typeof PortalReceipt>;

/** Which receipt shape a stored or served receipt is, judged leniently (before full validation). */
export type ReceiptKind = "modal" | "portal" | "classic" | "legacy-text" | "unknown";

export function receiptKind(receipt: unknown): ReceiptKind {
  const output = field(receipt, "output");
  const data = field(output, "data");
  if (data === undefined && field(output, "response") !== undefined) return "modal";
  if (typeof field(data, "response") === "string") return "portal";
  const variant = outputVariant(receipt);
  return variant === "direct" || variant === "nested" ? "classic" : variant;
}

/** The single answer of a Modal or portal receipt; undefined for other shapes. */
export function singleAnswer(receipt: unknown): string | undefined {
  const output = field(receipt, "output");
  const direct = field(output, "response");
  if (typeof direct === "string") return direct;
  const nested = field(field(output, "data"), "response");
  return typeof nested === "string" ? nested : undefined;
}

/** Which `output.data` variant a receipt carries, judged leniently (before full validation). */
export type OutputVariant = "direct" | "nested" | "legacy-text" | "unknown";

export function outputVariant(receipt: unknown): OutputVariant {
  const data = field(field(receipt, "output"), "data");
  if (Array.isArray(field(data, "responses"))) return "direct";
  if (Array.isArray(field(field(data, "data"), "responses"))) return "nested";
  if (typeof field(data, "text_output") === "string") return "legacy-text";
  return "unknown";
}

/** The answers of a valid classic receipt, whichever variant it uses. */
export function receiptResponses(receipt: Receipt): ReceiptResponse[] {
  const data = receipt.output.data;
  return "responses" in data && Array.isArray(data.responses) ? data.responses : (data as z.infer<typeof NestedOutputData>).data.responses;
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}
