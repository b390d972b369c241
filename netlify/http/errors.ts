import type { z } from "zod";

/**
 * A request that cannot be served, with the status, a stable machine-readable code and a message that
 * says what to fix. Route code throws these; netlify/http/respond.ts is the one place that turns any
 * error into a response.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export const badRequest = (message: string, details: Record<string, unknown> = {}) => new HttpError(400, "bad_request", message, details);

/** A zod failure as a 400 listing every problem with the place it is in (`body.jobIds.0: ...`). */
export function invalidInput(where: string, error: z.ZodError): HttpError {
  const problems = error.issues.map((i) => `${[where, ...i.path.map(String)].join(".")}: ${i.message}`);
  return badRequest(`invalid ${where}: ${problems.join("; ")}`, { problems });
}
