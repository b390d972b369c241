import { servedExecutions } from "../../beacon/api.ts";
import { judgeReceipt } from "../receipts/judge.ts";
import { NON_ANSWERS } from "../receipts/settings.ts";
import type { CanaryStage, CanarySettings } from "./settings.ts";
import type { DbFacts, Observation } from "./observe.ts";
import type { InFlight } from "./state.ts";

/** When a stage happened: exact (Beacon's timestamps) or an upper bound (first seen now); "hidden" = not observable. */
export type Reached = { at: number; exact: boolean } | "hidden" | undefined;

export interface Facts {
  reached: Record<Exclude<CanaryStage, "accepted">, Reached>;
  status?: string;
  db?: DbFacts;
  /** Why the stages cannot all be seen (no SQL / no Redis / a read failed). */
  blind: string[];
  /** The receipts' verdict once the job has completed and Beacon serves receipts. */
  receipts?: { problems: string[]; answered: string[] };
  /** `job.id` of the job details, when they could be read. */
  detailsId?: string;
}

const BEYOND_CREATED = new Set(["processing", "finalizing", "running", "completed", "failed", "cancelled"]);

/** Turns one observation into stage times in seconds since submission. Pure. */
export function factsOf(obs: Observation, c: InFlight, nowS: number, s: CanarySettings): Facts {
  const blind: string[] = [];
  const db = obs.db && !("error" in obs.db) ? obs.db : undefined;
  if (obs.db === undefined) blind.push("BEACON_DATABASE_URL is not set: outbox stages are not observable, execution times are not exact");
  else if (obs.db && "error" in obs.db) blind.push(`Beacon's database could not be read: ${obs.db.error}`);
  if (obs.queue && "error" in obs.queue) blind.push(`Beacon's Redis could not be read: ${obs.queue.error}`);
  if (!obs.api.ok && obs.api.failure !== "http") blind.push(`job details could not be read: ${obs.api.message}`);
  const status = db?.status ?? (obs.api.ok ? obs.api.value.status : undefined);
  const progressed = status !== undefined && BEYOND_CREATED.has(status);
  const seen = { at: nowS, exact: false };
  const base = c.acceptedS;
  const exact = (offset: number | null | undefined) => (offset == null ? undefined : { at: base + Math.max(0, offset), exact: true });
  const sqlHidden = obs.db === undefined || (obs.db !== null && "error" in obs.db);
  const rowExists = db !== undefined || (sqlHidden && obs.api.ok);
  const apiUnreachable = !obs.api.ok && obs.api.failure !== "http";

  const published = sqlHidden ? "hidden" : exact(db?.publishedS);
  const queueSeen = obs.queue && !("error" in obs.queue) && obs.queue.waiting;
  const processingAt = db?.status === "processing" ? exact(db.updatedS) : (exact(db?.startedS) ?? seen);
  const completedStatus = status === "completed" && (!db || db.completed > 0);

  const reached: Facts["reached"] = {
    created: rowExists ? { at: base, exact: true } : sqlHidden && apiUnreachable ? "hidden" : undefined,
    outbox: sqlHidden ? "hidden" : db && db.outboxRows > 0 ? exact(db.outboxS) : undefined,
    published,
    // RPUSH comes right before the row is marked published: the publish time is the enqueue time.
    queued: progressed || queueSeen ? (typeof published === "object" ? published : seen) : obs.queue && !("error" in obs.queue) ? undefined : "hidden",
    processing: progressed ? processingAt : undefined,
    started: db ? exact(db.startedS) : completedStatus ? seen : sqlHidden ? "hidden" : undefined,
    completed: completedStatus ? (exact(db?.completedS) ?? seen) : undefined,
    receipt: undefined,
  };

  const facts: Facts = { reached, blind, ...(status ? { status } : {}), ...(db ? { db } : {}) };
  if (obs.api.ok) {
    facts.detailsId = obs.api.value.job.id ?? "";
    // Every row is served; only completed rows' receipts are judged (a row without one answers in output_data).
    const list = servedExecutions(obs.api.value.executions).filter((e) => e.receipt !== null && (!e.row || e.row.status === "completed"));
    if (completedStatus && list.length > 0) {
      const rules = { placeholderPrefixes: s.placeholderPrefixes, nonAnswers: NON_ANSWERS };
      const verdicts = list.map((e) => judgeReceipt(e.receipt, { id: c.id, questions: [s.question] }, rules));
      facts.receipts = { problems: verdicts.flatMap((v) => v.problems), answered: verdicts.flatMap((v) => v.answered) };
      // The receipt is stored with its execution row: it exists from the completion on.
      if (facts.receipts.problems.length === 0) reached.receipt = typeof reached.completed === "object" && reached.completed.exact ? reached.completed : seen;
    }
  }
  // The hybrid path stores no receipt: the API serves none and the answer sits in output_data.
  const outputAnswers = db?.outputAnswers ?? [];
  if (completedStatus && !facts.receipts && outputAnswers.length > 0) {
    const problems = outputAnswers.filter((a) => !a.chars).map((a) => `execution ${a.execution} (${a.question_id ?? "no question_id"}): output_data.response is empty (no receipt: hybrid path)`);
    facts.receipts = { problems, answered: outputAnswers.filter((a) => a.chars && a.question_id).map((a) => a.question_id!) };
    if (problems.length === 0) reached.receipt = typeof reached.completed === "object" && reached.completed.exact ? reached.completed : seen;
  }
  return facts;
}
