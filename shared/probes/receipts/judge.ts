import type { z } from "zod";
import { outputVariant, Receipt, receiptResponses, type OutputVariant } from "../../beacon/receipt.ts";

export interface JobForReceipts {
  /** The public (jobspec) id the receipts were fetched for. */
  id: string;
  /** The JobSpec's question ids; null or empty means no count to match. */
  questions: readonly string[] | null | undefined;
}

export interface ReceiptVerdict {
  variant: OutputVariant;
  /** The receipt's own id, when it has a string one. */
  receiptId?: string;
  region?: string;
  /** Empty when the receipt is valid. */
  problems: string[];
  /** Question ids this receipt answers (when it validated). */
  answered: string[];
}

/** Most problems named per receipt; the evidence line stays short. */
const PROBLEMS_SHOWN = 3;

/**
 * Judges one receipt against the contract: it validates against the receipt schema (either answer
 * variant), is not the legacy mock's single `text_output`, every answer has a real question text and a
 * response, and the number of answers matches the job's questions.
 */
export function judgeReceipt(raw: unknown, job: JobForReceipts, placeholderPrefixes: readonly string[]): ReceiptVerdict {
  const variant = outputVariant(raw);
  const head = { variant, ...ids(raw) };
  if (variant === "legacy-text") {
    return { ...head, answered: [], problems: ["single output.data.text_output instead of responses[] (the mock-output incident)"] };
  }
  const parsed = Receipt.safeParse(raw);
  if (!parsed.success) {
    const problems = variant === "unknown" ? ["output.data has neither responses[] nor data.responses[]"] : describe(parsed.error);
    return { ...head, answered: [], problems };
  }
  const receipt = parsed.data;
  const responses = receiptResponses(receipt);
  const problems: string[] = [];
  if (receipt.jobspec_id !== "" && receipt.jobspec_id !== job.id) problems.push(`receipt is for job "${receipt.jobspec_id}"`);
  const prefixes = placeholderPrefixes.map((p) => p.toLowerCase());
  responses.forEach((r, i) => {
    const where = `responses[${i}] (${r.question_id})`;
    const text = r.question.trim();
    if (text === "") problems.push(`${where}: question text is empty`);
    else if (text === r.question_id) problems.push(`${where}: question text is the question id`);
    else if (prefixes.some((p) => text.toLowerCase().startsWith(p))) problems.push(`${where}: placeholder question text "${text.slice(0, 40)}"`);
    const explainedFailure = r.success === false && typeof r.error === "string" && r.error !== "";
    if (r.response.trim() === "" && !explainedFailure) problems.push(`${where}: response is empty`);
  });
  const expected = job.questions ?? [];
  if (expected.length > 0) {
    // Beacon stores one receipt per region x model x question (hybrid path) or one per region with every
    // question (container / golem path): a receipt answers exactly one, or all, of the job's questions.
    const foreign = responses.map((r) => r.question_id).filter((id) => !expected.includes(id));
    if (foreign.length > 0) problems.push(`answers questions the job does not list: ${foreign.slice(0, 3).join(", ")}`);
    if (responses.length !== 1 && responses.length !== expected.length) {
      problems.push(`${responses.length} responses for the job's ${expected.length} questions (expected ${expected.length}, or 1 per question execution)`);
    }
  } else if (responses.length === 0) problems.push("no responses");
  const shown = problems.slice(0, PROBLEMS_SHOWN);
  if (problems.length > PROBLEMS_SHOWN) shown.push(`${problems.length - PROBLEMS_SHOWN} more`);
  return { ...head, answered: responses.map((r) => r.question_id), problems: shown };
}

function ids(raw: unknown): { receiptId?: string; region?: string } {
  const r = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  const details = typeof r["execution_details"] === "object" && r["execution_details"] !== null ? (r["execution_details"] as Record<string, unknown>) : {};
  return {
    ...(typeof r["id"] === "string" && r["id"] !== "" ? { receiptId: r["id"].slice(0, 80) } : {}),
    ...(typeof details["region"] === "string" && details["region"] !== "" ? { region: details["region"].slice(0, 40) } : {}),
  };
}

/** "output.data: ...; execution_details: expected object": the first few issues, by path. */
export function describe(error: z.ZodError, max = PROBLEMS_SHOWN): string[] {
  const issues = error.issues.slice(0, max).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  if (error.issues.length > max) issues.push(`${error.issues.length - max} more`);
  return issues;
}
