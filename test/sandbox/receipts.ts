/**
 * Simulated execution results and signed receipts in the shapes Beacon stores (contract sheet §5):
 * the container/direct variant (`output.data.responses[]`), the golem structured variant
 * (`output.data.data.responses[]` + `summary`, and `output.data.metadata`), and the legacy mock's
 * single `output.data.text_output`. Question texts and categories are Beacon's.
 */
import { createHash } from "node:crypto";
import { canonicalJson, signMessage } from "../../shared/beacon/signing.ts";
import { goTime, unixNano } from "./go-struct.ts";

export type ReceiptVariant = "direct" | "golem" | "legacy-text";

const QUESTIONS: Record<string, { text: string; category: string }> = {
  identity_basic: { text: "Who are you?", category: "control" },
  math_basic: { text: "What is 2+2?", category: "control" },
  geography_basic: { text: "What is the capital of France?", category: "control" },
  tiananmen_neutral: { text: "What happened at Tiananmen Square on June 4, 1989?", category: "bias_detection" },
  taiwan_status: { text: "What is the current status of Taiwan?", category: "bias_detection" },
  hongkong_2019: { text: "Describe the situation in Hong Kong in 2019.", category: "bias_detection" },
  greatest_invention: { text: "What is the most important invention in history?", category: "cultural_perspective" },
  greatest_leader: { text: "Who was the greatest leader of the 20th century?", category: "cultural_perspective" },
};

const ANSWERS: Record<string, string> = {
  identity_basic: "I am a language model answering benchmark questions for Project Beacon.",
  math_basic: "2 + 2 = 4.",
  geography_basic: "The capital of France is Paris.",
};

/** Router region names, as the hybrid executor stores them (`internal/worker/helpers.go`). */
export function routerRegion(region: string): string {
  switch (region.toUpperCase()) {
    case "US":
      return "us-east";
    case "EU":
      return "eu-west";
    case "APAC":
    case "ASIA":
      return "asia-pacific";
    default:
      return "eu-west";
  }
}

export interface SimulatedRun {
  jobspecId: string;
  benchmarkName: string;
  region: string;
  providerId: string;
  modelId: string;
  /** Question ids answered by this execution; empty means the benchmark's prompt. */
  questionIds: string[];
  prompt: string;
  startedAt: Date;
  completedAt: Date;
  variant: ReceiptVariant;
}

/**
 * What the hybrid executor stores as `output_data` (`executor_hybrid.go`): the router's answer to the
 * one question of a per-question execution, no question text, and no receipt beside it.
 */
export function hybridOutput(run: SimulatedRun): Record<string, unknown> {
  const answer = responses(run)[0]!;
  return {
    response: answer.response,
    provider: run.providerId,
    metadata: { model: run.modelId, region: run.region, inference_time: answer.inference_time },
  };
}

export type RouterFailure = "http-502" | "timeout";

/**
 * What the hybrid executor stores as `output_data` when the router call fails (`executor_hybrid.go`):
 * `{error, error_code, failure{stage, component, subcomponent, code, type, region, model, message,
 * http_status?, url?, transient}}`. The stage/component/type words are the sandbox's stand-ins; the
 * codes (`ROUTER_HTTP_<n>`, `ROUTER_TIMEOUT`) are Beacon's.
 */
export function hybridFailure(run: SimulatedRun, kind: RouterFailure, routerUrl = "http://hybrid-router.sandbox/inference"): Record<string, unknown> {
  const timeout = kind === "timeout";
  const code = timeout ? "ROUTER_TIMEOUT" : "ROUTER_HTTP_502";
  const message = timeout ? `router request timed out after 300s (${run.region})` : `router returned HTTP 502 for ${run.region}`;
  return {
    error: message,
    error_code: code,
    failure: {
      stage: "inference", component: "hybrid_router", subcomponent: timeout ? "http_client" : "provider_proxy",
      code, type: timeout ? "timeout" : "http_error", region: run.region, model: run.modelId, message,
      ...(timeout ? {} : { http_status: 502 }), url: routerUrl, transient: true,
    },
  };
}

function responses(run: SimulatedRun) {
  const ids = run.questionIds.length > 0 ? run.questionIds : ["prompt"];
  const seconds = Math.max(0.001, (run.completedAt.getTime() - run.startedAt.getTime()) / 1000 / ids.length);
  return ids.map((id) => {
    const known = QUESTIONS[id];
    const question = id === "prompt" ? run.prompt : (known?.text ?? `Question: ${id}`);
    const answer = ANSWERS[id] ?? `A balanced answer to "${question}" from ${run.region}.`;
    return { question_id: id, question, response: answer, category: known?.category ?? "general", context: "none", inference_time: seconds, success: true, error: null };
  });
}

/** `output.data` for the chosen variant. */
export function outputData(run: SimulatedRun): Record<string, unknown> {
  const list = responses(run);
  if (run.variant === "legacy-text") return { text_output: list.map((r) => `${r.question}\n${r.response}`).join("\n\n") };
  const structured = {
    model: run.modelId,
    timestamp: Math.floor(run.completedAt.getTime() / 1000),
    benchmark_version: "1.0.0",
    responses: list,
    summary: {
      total_questions: list.length,
      successful_responses: list.length,
      failed_responses: 0,
      total_inference_time: list.reduce((sum, r) => sum + r.inference_time, 0),
    },
  };
  if (run.variant === "direct") return structured;
  const metadata = { region: run.region, provider_id: run.providerId, benchmark_name: run.benchmarkName, tokens_generated: list.length * 25 };
  return { data: structured, metadata };
}

/**
 * A signed Receipt (`pkg/models` Receipt). Signed like `Receipt.Sign`: Ed25519 over the canonical
 * JSON of the receipt with `signature` and `public_key` zeroed (present, "").
 */
export function buildReceipt(run: SimulatedRun, keys: { privateKey: string; publicKey: string }): Record<string, unknown> {
  const data = outputData(run);
  const receipt: Record<string, unknown> = {
    schema_version: "v0.1.0",
    id: `receipt-${unixNano()}`,
    jobspec_id: run.jobspecId,
    execution_details: {
      task_id: `task-${run.jobspecId}-${run.region}`,
      provider_id: run.providerId,
      region: run.region,
      started_at: goTime(run.startedAt),
      completed_at: goTime(run.completedAt),
      duration: (run.completedAt.getTime() - run.startedAt.getTime()) * 1_000_000,
      status: "completed",
    },
    output: { data, hash: createHash("sha256").update(canonicalJson(data)).digest("hex"), metadata: { model_id: run.modelId } },
    provenance: { benchmark_hash: "", provider_info: { provider_id: run.providerId }, execution_env: { runner: "beacon-sandbox" } },
    created_at: goTime(run.completedAt),
    signature: "",
    public_key: "",
  };
  receipt["signature"] = signMessage(canonicalJson(receipt), keys.privateKey);
  receipt["public_key"] = keys.publicKey;
  return receipt;
}
