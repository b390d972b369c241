/**
 * Secrets never leave the process: results, logs, pages and Slack messages pass through a redactor
 * built from the configured secret values. On top of those values, the redactor strips the parts of
 * ANY URL it sees that carry credentials: the user info (`user:password@`) and every query-string
 * value. Those hide in places no list of values can foresee: fetch's own error messages repeat the
 * URL they were given, a database driver echoes its connection string, a short token is below the
 * length a value-based redactor can safely replace.
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

export const REDACTED = "[redacted]";

/**
 * An absolute URL inside free text: scheme, `//`, then anything up to whitespace, a quote, a bracket
 * or a backslash (so a URL inside JSON, HTML or a quoted message ends where its string ends).
 */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>\\`]+/gi;
/** The user info of a URL: everything between `//` and the first `@` before the path. */
const USER_INFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i;
/** A query parameter's value (the name stays: it says what kind of secret was there). */
const QUERY_VALUE = /([?&][^=&#?]+=)[^&#]+/g;

/** Strips user info and query-string values from every URL in the text. Idempotent. */
export function scrubUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => {
    const withoutUser = url.replace(USER_INFO, `$1${REDACTED}@`);
    const q = withoutUser.indexOf("?");
    if (q < 0) return withoutUser;
    return withoutUser.slice(0, q) + withoutUser.slice(q).replace(QUERY_VALUE, (_, name: string) => `${name}${REDACTED}`);
  });
}

/** Replaces every occurrence of every secret (and of its URL-encoded form) with [redacted], and scrubs every URL. */
export function createRedactor(secrets: Iterable<string>): Redactor {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 6) continue; // too short to redact without mangling ordinary text (URLs are scrubbed anyway)
    needles.add(secret);
    needles.add(encodeURIComponent(secret));
  }
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    // Values first: a whole configured URL is replaced as one, before scrubbing could split it.
    for (const needle of sorted) out = out.split(needle).join(REDACTED);
    return scrubUrls(out);
  };
}

/** Redacts every string inside a JSON-serialisable value. */
export function redactDeep<T>(value: T, redact: Redactor): T {
  return JSON.parse(redact(JSON.stringify(value))) as T;
}

/**
 * The secret parts of a configured URL, for the value-based redactor: the password, every query value,
 * and for http(s) the user name and the Basic credentials fetch would send (base64 of `user:password`).
 * A database role name is not collected: it is often a common word ("postgres") that would be
 * replaced everywhere, and inside a URL the scrubber removes it anyway. `whole` adds the URL itself.
 */
export function secretsOfUrl(raw: string | undefined, options: { whole?: boolean } = {}): string[] {
  if (!raw) return [];
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return [raw]; // unparseable: the whole value is all we can name
  }
  const out: string[] = options.whole ? [raw] : [];
  const user = safeDecode(url.username);
  const password = safeDecode(url.password);
  if (password) out.push(password);
  const http = url.protocol === "http:" || url.protocol === "https:";
  if (http && user) out.push(user, Buffer.from(`${user}:${password}`).toString("base64"));
  for (const value of url.searchParams.values()) if (value) out.push(value);
  if (!options.whole && (user || password || url.search)) out.push(raw); // a URL carrying credentials is itself one
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
