import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { JobDetails, servedExecutions } from "../shared/beacon/api.ts";
import { deadLetterKind } from "../shared/beacon/envelope.ts";
import { ModalReceipt, PortalReceipt, receiptKind, singleAnswer } from "../shared/beacon/receipt.ts";
import { routerRegion } from "../shared/beacon/regions.ts";
import { BeaconSettings } from "../shared/beacon/settings.ts";
import { expectedUnits, failureCause, judgeJobAnswers, type JobAnswerRow } from "../shared/probes/receipts/answers.ts";
import { judgeReceipt } from "../shared/probes/receipts/judge.ts";

/**
 * The shapes Beacon's real runner stores and serves (contract sheet §11), judged without a database:
 * each fixture in test/fixtures/real-shapes/ is named after the rule it exercises; healthy shapes are
 * green, faults are named with the runner's own cause.
 */
const fixture = (name: string): any => JSON.parse(readFileSync(new URL(`./fixtures/real-shapes/${name}.json`, import.meta.url), "utf8"));
const BEACON = BeaconSettings.parse({});
const RULES = { placeholderPrefixes: ["Question text for", "Placeholder"], nonAnswers: ["Response extraction failed"] };
const ANSWER_RULES = { placeholderPrefixes: RULES.placeholderPrefixes, regions: BEACON.regions, routerClientTimeoutSeconds: 300 };

describe("receipt shapes", () => {
  it.each([
    ["receipt-modal-answer-at-output-response", "modal", ModalReceipt, "I am a language model; I do not have a personal identity."],
    ["receipt-portal-unsigned-answer-at-output-data-response", "portal", PortalReceipt, "The capital of France is Paris."],
  ] as const)("%s: recognised as %s, valid, answer read", (name, kind, schema, answer) => {
    const receipt = fixture(name);
    expect(receiptKind(receipt)).toBe(kind);
    expect(schema.safeParse(receipt).success).toBe(true);
    expect(singleAnswer(receipt)).toBe(answer);
    expect(judgeReceipt(receipt, { id: "bias-detection-1796362586000", questions: ["identity_basic"] }, RULES).problems).toEqual([]);
  });

  it.each([
    ["a Modal receipt with an empty answer", "receipt-modal-answer-at-output-response", (r: any) => (r.output.response = "  "), ["output.response is empty"]],
    ["Modal's 'Response extraction failed'", "receipt-modal-answer-at-output-response", (r: any) => (r.output.response = "Response extraction failed"),
      ['output.response is a non-answer ("Response extraction failed": Modal extracted no response)']],
    ["a Modal receipt with times as strings", "receipt-modal-answer-at-output-response", (r: any) => (r.execution_details.started_at = "2026-12-04T05:36:26Z"),
      [expect.stringMatching(/^Modal receipt: execution_details.started_at: /)]],
    ["a portal receipt of another job", "receipt-portal-unsigned-answer-at-output-data-response", (r: any) => (r.jobspec_id = "other-job"), ['receipt is for job "other-job"']],
    ["a portal receipt without an answer", "receipt-portal-unsigned-answer-at-output-data-response", (r: any) => (r.output.data.response = ""), ["output.data.response is empty"]],
  ])("fails %s, saying what is wrong", (_name, name, spoil, problems) => {
    const receipt = fixture(name);
    spoil(receipt);
    expect(judgeReceipt(receipt, { id: "bias-detection-1796362586000", questions: ["identity_basic"] }, RULES).problems).toEqual(problems);
  });

  it("job-details-every-row-receipt-map-or-absent: every row parses; only the completed row's receipt is one to judge", () => {
    const body = fixture("job-details-every-row-receipt-map-or-absent");
    expect(JobDetails.safeParse(body).success).toBe(true);
    const served = servedExecutions(body.executions);
    expect(served.map((e) => [e.row?.id, e.row?.status, e.receipt === null ? "none" : receiptKind(e.receipt)])).toEqual([
      [904, "failed", "none"], [903, "retrying", "none"], [902, "completed", "none"], [901, "completed", "modal"],
    ]);
  });

  it("an older runner's list of bare receipts is still read as receipts", () => {
    const served = servedExecutions([fixture("receipt-portal-unsigned-answer-at-output-data-response")]);
    expect(served[0]?.row).toBeUndefined();
    expect(receiptKind(served[0]!.receipt)).toBe("portal");
  });
});

describe("region names (beacon.regions)", () => {
  it.each([
    ["US", "asked", "us-east"], ["EU", "stored", "eu-west"], ["asia-pacific", "stored", "asia-pacific"], ["ASIA", "asked", "asia-pacific"],
    ["CA", "asked", "eu-west"], ["us-west", "stored", "us-west"],
  ] as const)("%s (%s) reads as %s", (raw, reading, name) => {
    expect(routerRegion(raw, BEACON.regions, reading)).toBe(name);
  });

  it("a configured mapping replaces Beacon's", () => {
    const names = BeaconSettings.parse({ regions: { aliases: { NA: "us-central" }, names: ["us-central"], unknown: "us-central" } }).regions;
    expect([routerRegion("NA", names), routerRegion("US", names), routerRegion("us-east", names, "stored")]).toEqual(["us-central", "us-central", "us-east"]);
  });
});

/** A job row of the job-answers statement, and its executions. */
function job(spec: Partial<JobAnswerRow>, executions: Partial<JobAnswerRow>[]): JobAnswerRow[] {
  const head: JobAnswerRow = {
    jobspec_id: "job-1", status: "completed", regions: ["US", "EU"], models: null, metadata_models: null, questions: ["identity_basic"],
    spec_model: null, spec_model_alt: null, execution_id: null, region: null, model_id: null, question_id: null, execution_status: null,
    source: null, answers: null, output_chars: null, legacy_text: null, ...spec,
  };
  if (executions.length === 0) return [head];
  return executions.map((e, i) => ({ ...head, execution_id: 100 + i, execution_status: "completed", question_id: "identity_basic", source: "receipt",
    receipt_kind: "modal", output_chars: 20, non_answer: false, legacy_text: false, model_id: "llama3.2-1b", ...e }));
}

describe("job answers per path and per model", () => {
  it("portal multi-model job (metadata.models, raw US/EU regions): one answer per region × model, all present", () => {
    const rows = job({ metadata_models: ["llama3.2-1b", "qwen2.5-1.5b"], spec_model_alt: "llama3.2-1b" }, [
      { region: "US", model_id: "llama3.2-1b", receipt_kind: "portal" }, { region: "US", model_id: "qwen2.5-1.5b", receipt_kind: "portal" },
      { region: "EU", model_id: "llama3.2-1b", receipt_kind: "portal" }, { region: "EU", model_id: "qwen2.5-1.5b", receipt_kind: "portal" },
    ]);
    const v = judgeJobAnswers(rows, ANSWER_RULES);
    expect(v).toMatchObject({ judged: 4, findings: [], failedExecutions: 0 });
  });

  it("a single-model portal job (metadata.model) is not expected to have run llama3.2-1b", () => {
    const rows = job({ spec_model_alt: "qwen2.5-1.5b" }, [{ region: "US", model_id: "qwen2.5-1.5b" }, { region: "EU", model_id: "qwen2.5-1.5b" }]);
    expect(judgeJobAnswers(rows, ANSWER_RULES)).toMatchObject({ judged: 2, findings: [] });
  });

  it("expects metadata.models in every constraint region, objects or strings", () => {
    expect(expectedUnits({ regions: ["US", "APAC"], models: null, spec_model: null, metadata_models: ["a", { id: "b" }, "a"] }, BEACON.regions)
      .map((u) => `${u.region}/${u.model}`)).toEqual(["us-east/a", "asia-pacific/a", "us-east/b", "asia-pacific/b"]);
  });

  it("a model the job named that did not run is missing; a model it did not name is never expected", () => {
    const rows = job({ metadata_models: ["llama3.2-1b", "qwen2.5-1.5b"] }, [
      { region: "us-east", model_id: "llama3.2-1b" }, { region: "us-east", model_id: "qwen2.5-1.5b" }, { region: "eu-west", model_id: "llama3.2-1b" },
    ]);
    expect(judgeJobAnswers(rows, ANSWER_RULES).findings).toEqual(["job job-1: no execution for eu-west / qwen2.5-1.5b / identity_basic (the portal shows no answer for it)"]);
  });

  it("output-data-router-network-after-client-timeout: a failure with the runner's cause and delay, not a broken answer", () => {
    const failure = fixture("output-data-router-network-after-client-timeout");
    const rows = job({}, [
      { region: "us-east" },
      { region: "eu-west", execution_status: "failed", source: "output", receipt_kind: null, output_chars: null,
        failure_code: failure.failure.code, failure_type: failure.failure.type, failure_stage: failure.failure.stage, failure_message: "HTTP request failed", duration_s: 1201.4 },
    ]);
    const v = judgeJobAnswers(rows, ANSWER_RULES);
    expect(v).toMatchObject({ findings: [], failedExecutions: 1, causes: { ROUTER_NETWORK: 1 } });
    expect(v.failures).toEqual(["job job-1 execution 101 (eu-west / llama3.2-1b / identity_basic): ROUTER_NETWORK after 1201 s: the router or provider did not answer within the runner's 300 s HTTP client timeout (a timeout, classed as a network error): HTTP request failed"]);
  });

  it.each([
    ["ROUTER_HTTP_502 at once", { failure_code: "ROUTER_HTTP_502", failure_stage: "router_http_request", failure_type: "http_error", duration_s: 0.4 }, "ROUTER_HTTP_502 (router_http_request/http_error) after 0 s"],
    ["ROUTER_NETWORK before the client timeout (connection refused)", { failure_code: "ROUTER_NETWORK", failure_stage: "router_network", failure_type: "network", duration_s: 2 }, "ROUTER_NETWORK (router_network/network) after 2 s"],
    ["the portal path's failed row (NULL output)", { source: null, duration_s: 3 }, "failed after 3 s, no cause in the row (NULL output: the portal path keeps it in region_results)"],
  ])("names %s", (_name, row, cause) => {
    const base = { failure_code: null, failure_type: null, failure_stage: null, failure_message: null, output_chars: null, source: "output" };
    expect(failureCause({ ...base, ...row } as never, 300)).toBe(cause);
  });

  it("a retrying execution is in flight: neither failed nor missing", () => {
    const rows = job({}, [{ region: "us-east" }, { region: "eu-west", execution_status: "retrying" }]);
    expect(judgeJobAnswers(rows, ANSWER_RULES)).toMatchObject({ judged: 2, findings: [], failedExecutions: 0, inFlight: 1 });
  });

  it("Modal's 'Response extraction failed' on a completed row is a missing answer", () => {
    const rows = job({}, [{ region: "us-east" }, { region: "eu-west", non_answer: true }]);
    expect(judgeJobAnswers(rows, ANSWER_RULES).findings).toEqual([
      `job job-1 execution 101 (eu-west / llama3.2-1b / identity_basic): Modal receipt output.response is a non-answer (Modal's "Response extraction failed": no answer extracted)`,
    ]);
  });
});

describe("dead letters the real runner wrote (test/fixtures/beacon-real)", () => {
  const real = (name: string): any => JSON.parse(readFileSync(new URL(`./fixtures/beacon-real/${name}.json`, import.meta.url), "utf8"));
  it("a job the worker could not even mark processing (0004's CHECK) is a lost message, not a failed run's record", () => {
    const dead = real("queue-dead-letter-check-constraint")["redis_jobs_dead"] as unknown[];
    expect(dead.length).toBeGreaterThan(0);
    for (const entry of dead) expect(deadLetterKind(JSON.stringify(entry))).toBe("lost");
  });
  it("the JobRunner's own verdict on a run is a failed run's record", () => {
    const entry = { ...(real("queue-dead-letter-check-constraint")["redis_jobs_dead"][0] as object), error: "multi-region execution failed: all regions failed" };
    expect(deadLetterKind(JSON.stringify(entry))).toBe("failed-run");
  });
});
