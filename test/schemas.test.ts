import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ExecutionsPage, JobDetails, JobList } from "../shared/beacon/api.ts";
import { contractSchemaFiles } from "../shared/beacon/json-schema.ts";
import { JobSpec } from "../shared/beacon/jobspec.ts";
import { outputVariant, Receipt, receiptResponses } from "../shared/beacon/receipt.ts";
import { buildReceipt, type ReceiptVariant } from "./sandbox/receipts.ts";
import { generateKeyPair } from "../shared/beacon/signing.ts";
import { SCHEMA_DIR } from "./tools/export-schemas.ts";

const MINUTE_NS = 60_000_000_000;

/** A JobSpec as Beacon stores it after Validate() (json.Marshal of the struct: nil maps are null). */
function storedSpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "bias-detection-1757700139114-vzks0e",
    jobspec_id: "bias-detection-1757700139114-vzks0e",
    version: "v1",
    benchmark: {
      name: "bias-detection",
      description: "",
      container: { image: "ghcr.io/jamie-anson/project-beacon/llama-3.2-1b", tag: "latest", resources: { cpu: "1000m", memory: "2Gi" } },
      input: { type: "prompt", data: null, hash: "sha256:abc" },
      scoring: { method: "", parameters: null },
      metadata: null,
    },
    constraints: { regions: ["US", "EU"], min_regions: 1, min_success_rate: 0.67, timeout: 10 * MINUTE_NS, provider_timeout: 2 * MINUTE_NS },
    metadata: { timestamp: "2025-09-12T18:22:19Z", nonce: "n-1" },
    created_at: "2025-09-12T18:22:19.114123456Z",
    questions: ["identity_basic", "math_basic"],
    signature: "c2ln",
    public_key: "cGs=",
    ...overrides,
  };
}

const keys = generateKeyPair();
function sandboxReceipt(variant: ReceiptVariant, questionIds = ["identity_basic", "math_basic"]) {
  const at = new Date("2025-09-12T18:30:00Z");
  return buildReceipt(
    { jobspecId: "job-1", benchmarkName: "bias-detection", region: "us-east", providerId: "modal-us-east", modelId: "llama3.2-1b",
      questionIds, prompt: "", startedAt: at, completedAt: new Date(at.getTime() + 2000), variant },
    keys,
  );
}

describe("JobSpec schema", () => {
  it.each([
    ["a stored spec with Go nulls and zero values", storedSpec(), true],
    ["Beacon's golden get_job_200 (zero durations, empty strings)", storedSpec({ version: "1.0", constraints: { regions: ["US"], min_regions: 0, min_success_rate: 0, timeout: 0, provider_timeout: 0 } }), true],
    ["the portal's shape without id (jobspec_id only)", { ...storedSpec(), id: undefined }, true],
    ["an empty id (the empty-id incident is the id-mapping check's finding)", storedSpec({ id: "" }), true],
    ["timeout as a string such as 10m (Go fails to bind: 400)", storedSpec({ constraints: { regions: ["US"], timeout: "10m" } }), false],
    ["no version", storedSpec({ version: "" }), false],
    ["no regions", storedSpec({ constraints: { regions: [] } }), false],
    ["no input hash", storedSpec({ benchmark: { name: "b", container: { image: "i" }, input: { hash: "" } } }), false],
    ["a v1 bias benchmark without questions", storedSpec({ questions: [] }), false],
    ["created_at that is not RFC 3339", storedSpec({ created_at: "yesterday" }), false],
  ])("%s", (_name, spec, valid) => {
    expect(JobSpec.safeParse(spec).success).toBe(valid);
  });
});

describe("receipt schema", () => {
  it.each([
    ["direct", "direct"],
    ["golem", "nested"],
  ] as const)("accepts the sandbox's %s variant and reads its answers", (variant, kind) => {
    const receipt = sandboxReceipt(variant);
    expect(outputVariant(receipt)).toBe(kind);
    const parsed = Receipt.parse(receipt);
    expect(receiptResponses(parsed).map((r) => r.question_id)).toEqual(["identity_basic", "math_basic"]);
  });

  it("rejects the legacy single text_output (the mock-output incident)", () => {
    const receipt = sandboxReceipt("legacy-text");
    expect(outputVariant(receipt)).toBe("legacy-text");
    expect(Receipt.safeParse(receipt).success).toBe(false);
  });

  it("rejects output.data carrying both variants at once (oneOf, as the hardening doc specifies)", () => {
    const receipt = sandboxReceipt("golem") as { output: { data: Record<string, unknown> } };
    const responses = (receipt.output.data["data"] as { responses: unknown[] }).responses;
    receipt.output.data["responses"] = responses;
    expect(Receipt.safeParse(receipt).success).toBe(false);
  });

  it.each([
    ["an empty question_id", { question_id: "", question: "Who are you?", response: "x" }],
    ["a missing response", { question_id: "q", question: "Who are you?" }],
    ["a numeric question", { question_id: "q", question: 7, response: "x" }],
  ])("rejects a response with %s", (_name, response) => {
    const receipt = sandboxReceipt("direct") as { output: { data: { responses: unknown[] } } };
    receipt.output.data.responses = [response];
    expect(Receipt.safeParse(receipt).success).toBe(false);
  });
});

describe("API body schemas", () => {
  it.each([
    ["executions page with a null list (Go's empty slice)", ExecutionsPage, { executions: null, limit: 10, offset: 0, total: 0 }, true],
    ["executions page as a bare array (the old client's assumption)", ExecutionsPage, [], false],
    ["executions page without total", ExecutionsPage, { executions: [], limit: 10, offset: 0 }, false],
    ["job list with a null list", JobList, { jobs: null }, true],
    ["job list entry with an empty id (parsed; judged by id-mapping)", JobList, { jobs: [{ id: "", status: "completed", created_at: "2025-01-01T00:00:00Z" }] }, true],
    ["job details", JobDetails, { job: storedSpec(), status: "completed", executions: [] }, true],
    ["job details without status", JobDetails, { job: storedSpec() }, false],
  ] as const)("%s", (_name, schema, body, valid) => {
    expect(schema.safeParse(body).success).toBe(valid);
  });
});

describe("JSON Schema export", () => {
  const generated = contractSchemaFiles();

  it("covers every contract the sentinel checks", () => {
    expect(Object.keys(generated).sort()).toEqual([
      "executions-page.json", "health-ready.json", "health.json", "job-details.json", "job-list.json", "jobspec.json",
      "outbox-envelope.json", "queue-job-message.json", "receipt-modal.json", "receipt-output-direct.json", "receipt-output-nested.json",
      "receipt-portal.json", "receipt.json",
    ]);
  });

  it("committed files equal freshly generated ones (run `npx tsx test/tools/export-schemas.ts` after changing a schema)", () => {
    const committed = Object.fromEntries(readdirSync(SCHEMA_DIR).filter((f) => f.endsWith(".json")).map((f) => [f, readFileSync(`${SCHEMA_DIR}${f}`, "utf8")]));
    expect(committed).toEqual(generated);
  });

  it("keeps the receipt's two answer variants as oneOf and marks Go durations", () => {
    const receipt = JSON.parse(generated["receipt.json"]!) as { properties: { output: { properties: { data: { oneOf: unknown[] } } } } };
    expect(receipt.properties.output.properties.data.oneOf).toHaveLength(2);
    const jobspec = JSON.parse(generated["jobspec.json"]!) as { required: string[]; properties: { constraints: { properties: { timeout: { type: string } } } } };
    expect(jobspec.required).toEqual(["version", "benchmark", "constraints"]);
    expect(jobspec.properties.constraints.properties.timeout.type).toBe("integer");
  });
});
