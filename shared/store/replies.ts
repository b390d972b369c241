/**
 * The sentinel's Upstash clients run with automaticDeserialization off (values come back as stored),
 * so hash and stream replies arrive in Redis's raw array shape. These turn them into objects; they
 * accept the object shape too, so they do not care how a client was configured.
 */

/** HGETALL: [field, value, field, value, ...] or {field: value}. */
export function hashReply(raw: unknown): Record<string, unknown> {
  if (Array.isArray(raw)) {
    const out: Record<string, unknown> = {};
    for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = raw[i + 1];
    return out;
  }
  return raw && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
}

/** XRANGE: [[id, [field, value, ...]], ...] or {id: {field: value}}, as ordered [id, fields] pairs. */
export function streamReply(raw: unknown): [id: string, fields: Record<string, unknown>][] {
  if (Array.isArray(raw)) {
    return raw.flatMap((entry) => (Array.isArray(entry) && entry.length >= 2 ? [[String(entry[0]), hashReply(entry[1])] as [string, Record<string, unknown>]] : []));
  }
  return Object.entries(raw && typeof raw === "object" ? (raw as Record<string, Record<string, unknown>>) : {});
}
