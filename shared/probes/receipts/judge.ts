import type { z } from "zod";
import { ModalReceipt, PortalReceipt, Receipt, receiptKind, receiptResponses, type ReceiptKind } from "../../beacon/receipt.ts";

export interface JobForReceipts {
  /** The public (jobspec) id the receipts were fetched for. */
  id: string;
  /** The JobSpec's question ids; null or empty means no count to match. */
  questions: readonly string[] | null | undefined;
}

export interface ReceiptVerdict {
  /** classic (direct or nested responses), modal, portal, legacy-text or unknown. */
  kind: ReceiptKind;
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

export interface ReceiptRules {
  placeholderPrefixes: readonly string[];
  /** Answers that are no answer, e.g. Modal's "Response extraction failed". */
  nonAnswers: readonly string[];
}

/**
 * Judges one receipt against the contract of its own shape:
 * - classic: validates (either answer variant), is not the legacy mock's single `text_output`, every
 *   answer has a real question text and a response, and it answers one or all of the job's questions;
 * - Modal (hybrid path): epoch-float times, an answer at `output.response` (no id, jobspec_id or
 *   signature is expected: Modal sends none);
 * - portal: the unsigned Go receipt (`signature: ""` is how the portal path writes it), for this job,
 *   with an answer at `output.data.response`.
 */
export function judgeReceipt(raw: unknown, job: JobForReceipts, r: ReceiptRules): ReceiptVerdict {
  const kind = receiptKind(raw);
  const head = { kind, ...ids(raw) };
  if (kind === "legacy-text") {
    return { ...head, answered: [], problems: ["single output.data.text_output instead of responses[] (the mock-output incident)"] };
  }
  if (kind === "modal" || kind === "portal") return { ...head, ...judgeSingleAnswer(raw, kind, job, r) };
  const parsed = Receipt.safeParse(raw);
  if (!parsed.success) {
    const problems = kind === "unknown"
      ? ["neither output.response (Modal), output.data.response (portal) nor output.data[.data].responses[] (classic)"]
      : describe(parsed.error);
    return { ...head, answered: [], problems };
  }
  const receipt = parsed.data;
  const responses = receiptResponses(receipt);
  const problems: string[] = [];
  if (receipt.jobspec_id !== "" && receipt.jobspec_id !== job.id) problems.push(`receipt is for job "${receipt.jobspec_id}"`);
  const prefixes = r.placeholderPrefixes.map((p) => p.toLowerCase());
  responses.forEach((x, i) => {
    const where = `responses[${i}] (${x.question_id})`;
    const text = x.question.trim();
    if (text === "") problems.push(`${where}: question text is empty`);
    else if (text === x.question_id) problems.push(`${where}: question text is the question id`);
    else if (prefixes.some((p) => text.toLowerCase().startsWith(p))) problems.push(`${where}: placeholder question text "${text.slice(0, 40)}"`);
    const explainedFailure = x.success === false && typeof x.error === "string" && x.error !== "";
    if (x.response.trim() === "" && !explainedFailure) problems.push(`${where}: response is empty`);
  });
  const expected = job.questions ?? [];
  if (expected.length > 0) {
    // Beacon stores one receipt per region x model x question (per-question path) or one per region with
    // every question (container / golem path): a receipt answers exactly one, or all, of the job's questions.
    const foreign = responses.map((x) => x.question_id).filter((id) => !expected.includes(id));
    if (foreign.length > 0) problems.push(`answers questions the job does not list: ${foreign.slice(0, 3).join(", ")}`);
    if (responses.length !== 1 && responses.length !== expected.length) {
      problems.push(`${responses.length} responses for the job's ${expected.length} questions (expected ${expected.length}, or 1 per question execution)`);
    }
  } else if (responses.length === 0) problems.push("no responses");
  return { ...head, answered: responses.map((x) => x.question_id), problems: cap(problems) };
}

/** Modal and portal receipts: one answer, no question text (the row's question_id says which). */
function judgeSingleAnswer(raw: unknown, kind: "modal" | "portal", job: JobForReceipts, r: ReceiptRules): Pick<ReceiptVerdict, "answered" | "problems"> {
  const parsed = kind === "modal" ? ModalReceipt.safeParse(raw) : PortalReceipt.safeParse(raw);
  if (!parsed.success) return { answered: [], problems: describe(parsed.error).map((p) => `${kind === "modal" ? "Modal" : "portal"} receipt: ${p}`) };
  const problems: string[] = [];
  const where = kind === "modal" ? "output.response" : "output.data.response";
  const response = kind === "modal" ? (parsed.data as ModalReceipt).output.response : (parsed.data as PortalReceipt).output.data.response;
  const answer = response.trim();
  if (kind === "portal") {
    const jobspecId = (parsed.data as PortalReceipt).jobspec_id;
    if (jobspecId !== "" && jobspecId !== job.id) problems.push(`receipt is for job "${jobspecId}"`);
  }
  if (answer === "") problems.push(`${where} is empty`);
  else if (r.nonAnswers.some((n) => n.trim().toLowerCase() === answer.toLowerCase())) problems.push(`${where} is a non-answer ("${answer.slice(0, 40)}": Modal extracted no response)`);
  return { answered: job.questions?.length === 1 ? [...job.questions] : [], problems: cap(problems) };
}

function cap(problems: string[]): string[] {
  const shown = problems.slice(0, PROBLEMS_SHOWN);
  if (problems.length > PROBLEMS_SHOWN) shown.push(`${problems.length - PROBLEMS_SHOWN} more`);
  return shown;
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
