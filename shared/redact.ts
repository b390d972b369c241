/**
 * Secrets never leave the process: results, logs, pages and Slack messages pass through a redactor
 * built from the configured secret values.
 */

/** A URL fit for evidence: no user info, no query string (tokens often ride there). */
export function safeUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = "";
    url.password = "";
    const hadQuery = url.search !== "";
    url.search = "";
    url.hash = "";
    return url.href + (hadQuery ? "?…" : "");
  } catch {
    return "(invalid url)";
  }
}

export type Redactor = (text: string) => string;

/** Replaces every occurrence of every secret (and of its URL-encoded form) with [redacted]. */
export function createRedactor(secrets: Iterable<string>): Redactor {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 6) continue; // too short to redact without mangling ordinary text
    needles.add(secret);
    needles.add(encodeURIComponent(secret));
  }
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const needle of sorted) out = out.split(needle).join("[redacted]");
    return out;
  };
}

/** Redacts every string inside a JSON-serialisable value. */
export function redactDeep<T>(value: T, redact: Redactor): T {
  return JSON.parse(redact(JSON.stringify(value))) as T;
}

/** The secret parts of a connection string or URL: the whole thing and its password. */
export function secretsOfUrl(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const url = new URL(raw);
    return [raw, decodeURIComponent(url.password)].filter(Boolean);
  } catch {
    return [raw];
  }
}
