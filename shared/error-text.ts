/**
 * A readable, single-line reason for anything thrown or emitted as an error. Not everything that
 * reaches a catch is an Error: the Neon driver rejects with a WebSocket `ErrorEvent` (or a plain object
 * shaped like one) whose own text lives in `.message` or in the `.error` it wraps, and `String()` of
 * those is "[object ErrorEvent]" / "[object Object]", which told an operator nothing.
 */
export function errorText(error: unknown): string {
  return describe(error, 0) || "unknown error (nothing was said)";
}

/**
 * The reason of a failed store request, without the request: the Upstash client appends
 * ", command was: <the whole request>" to the store's own reason, which for the tick's write is the
 * script, the gzipped state and the ledger. Redact the result before any cut.
 */
export function storeErrorText(error: unknown): string {
  return errorText(error).split(", command was:")[0]!.trim();
}

function describe(error: unknown, depth: number): string {
  if (typeof error === "string") return error.trim();
  if (error === null || typeof error !== "object") return error === undefined ? "" : String(error);
  if (depth > 3) return "";
  const e = error as { message?: unknown; code?: unknown; error?: unknown; cause?: unknown; errors?: unknown; type?: unknown };
  const own = typeof e.message === "string" ? e.message.trim() : "";
  const code = typeof e.code === "string" || typeof e.code === "number" ? String(e.code) : "";
  const inners = [e.error, e.cause, ...(Array.isArray(e.errors) ? e.errors.slice(0, 1) : [])].filter((inner) => inner && inner !== error);
  // Beside a message of its own, an inner error's code says enough ("fetch failed (ECONNREFUSED)");
  // without one, the inner error's whole text is the reason.
  const nested = inners.map((inner) => (own && codeOf(inner)) || describe(inner, depth + 1)).find(Boolean) ?? "";
  const parts = [own, nested && !own.includes(nested) ? nested : "", code && !own.includes(code) && !nested.includes(code) ? code : ""].filter(Boolean);
  if (parts.length === 0 && typeof e.type === "string") return `${e.type} event without a message`;
  return parts.length === 2 || parts.length === 3 ? `${parts[0]} (${parts.slice(1).join(", ")})` : (parts[0] ?? "");
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "";
}

/** The system error code of a failed request (`ECONNREFUSED`...), on the error or the cause it wraps. */
export function causeCode(error: unknown): string | undefined {
  const direct = (error as { code?: unknown } | null)?.code;
  if (typeof direct === "string") return direct;
  const nested = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof nested === "string" ? nested : undefined;
}

/** Whether a request ended at its own time limit (an AbortSignal timeout or abort). */
export function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "TimeoutError" || name === "AbortError";
}
