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

/**
 * A URL cut inside its user info (`postgres://user:Pass` with the `@` and host cut off): what follows
 * the colon may be the start of a password. A port (digits only) and an IPv6 host are left alone.
 */
const CUT_USER_INFO = /^([a-z][a-z0-9+.-]*:\/\/[^/?#@[\]:]*:)(?!\d*(?:[/?#…]|$))[^/?#@…]+(…?)$/i;

/** Strips user info and query-string values from every URL in the text. Idempotent. */
export function scrubUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => {
    if (CUT_USER_INFO.test(url)) return url.replace(CUT_USER_INFO, `$1${REDACTED}$2`);
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
    return scrubUrls(redactCutTail(out, sorted));
  };
}

/** Shortest start of a secret that is redacted when a text ends with it (the same floor as a whole secret). */
const CUT_PREFIX_MIN = 6;

/**
 * Texts are redacted whole before anything cuts them (shared/runner.ts, the channels); this is the
 * second line for a text that was cut before it reached us and says so with an ellipsis (a probe's
 * SQL cut, Beacon's own truncated error): when it ends, before the ellipsis, with the start of a
 * secret, that start is redacted too. URL-shaped secrets are left to the URL scrubber, which knows a cut URL.
 */
function redactCutTail(text: string, secrets: readonly string[]): string {
  // Only a text marked as cut: an ordinary word at the end of a name ("url:portal") may well start
  // like a secret ("portal-pass"), and redacting it would hide what the text is about.
  const ellipsis = /(?:…|\.\.\.)$/.exec(text)?.[0] ?? "";
  if (ellipsis === "") return text;
  const body = text.slice(0, text.length - ellipsis.length);
  for (const secret of secrets) {
    if (secret.includes("://")) continue;
    for (let k = Math.min(secret.length - 1, body.length); k >= CUT_PREFIX_MIN; k--) {
      if (body.endsWith(secret.slice(0, k))) return body.slice(0, body.length - k) + REDACTED + ellipsis;
    }
  }
  return text;
}

/**
 * Redacts every string (and key) inside a JSON-serialisable value, one string at a time: each is a
 * whole text to the redactor, so a secret cut at a string's end is recognised there, and no JSON
 * escape can split a secret from its needle.
 */
export function redactDeep<T>(value: T, redact: Redactor): T {
  return walk(JSON.parse(JSON.stringify(value)) as unknown, redact) as T;
}

function walk(value: unknown, redact: Redactor): unknown {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, redact));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), walk(v, redact)]));
  return value;
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
