/**
 * `executions.question_id` exists only where Beacon's hand-applied `007_add_question_id_to_executions.sql`
 * ran; none of the numbered migrations create it. Beacon's runner (main 5442b72) names it in its one
 * execution INSERT (`ra/internal/store/executions_repo.go:326`, both paths) and in its job API's
 * executions read (`ra/internal/api/handlers_simple.go:266`): without it every insert fails, is logged
 * and ignored (`ra/internal/worker/job_runner.go:1066-1085`, `ra/internal/handlers/cross_region_handlers.go:267-310`),
 * so jobs complete with no execution row, and `?include=executions` answers 500 (seen on the real runner).
 *
 * The sentinel's statements that read the column are run through `withQuestionId`: where Postgres
 * answers SQLSTATE 42703 naming it, the statement runs again with NULL in its place, and the caller
 * names the cause instead of showing Postgres' "column does not exist". Nothing extra is sent on a
 * database that has the column.
 */
export const QUESTION_ID_MISSING = "Beacon's database lacks executions.question_id (migration 007 not applied)";

/** What the runner does on such a database. */
export const QUESTION_ID_RUNNER =
  "Beacon's runner names the column in every execution INSERT (ra/internal/store/executions_repo.go:326), so it stores no execution on either path " +
  "while its jobs still complete, and ?include=executions answers 500 (handlers_simple.go:266)";

/** The same with the remedy, for evidence. */
export const QUESTION_ID_CONSEQUENCE = `${QUESTION_ID_RUNNER}; apply 007 (\`beacon-sentinel doctor\` prints the statement)`;

/** Postgres' undefined_column error naming question_id. */
export function isQuestionIdMissing(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return typeof e === "object" && e !== null && e.code === "42703" && typeof e.message === "string" && e.message.includes("question_id");
}

/**
 * Runs `run` with the column's expression (`alias.question_id`), and again with `NULL::text` when the
 * database lacks the column. `questionIdMissing` says which.
 */
export async function withQuestionId<T>(run: (column: (alias: string) => string) => Promise<T>): Promise<{ value: T; questionIdMissing: boolean }> {
  try {
    return { value: await run((alias) => `${alias}.question_id`), questionIdMissing: false };
  } catch (error) {
    if (!isQuestionIdMissing(error)) throw error;
    return { value: await run(() => "NULL::text"), questionIdMissing: true };
  }
}
