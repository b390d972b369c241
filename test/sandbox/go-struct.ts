/**
 * A tiny model of Go's encoding/json for struct types: decoding a JSON value into a typed struct
 * (unknown keys dropped, case-insensitive key match, type mismatches rejected, `null` leaving value
 * fields untouched) and encoding it back (zero values, `omitempty`, RFC3339Nano times). Beacon's
 * signature path (A) signs "the struct after Validate()", so the sandbox must see the same shape.
 */

export type Kind =
  | { t: "string" | "int" | "float" | "bool" | "time" | "strings" | "anyMap" | "stringMap" | "any" }
  | { t: "struct" | "ptr" | "structs"; fields: Field[] };

export interface Field {
  key: string;
  kind: Kind;
  omitempty?: boolean;
}

/** A JSON value that Go could not bind to the struct (gin answers 400). */
export class BindError extends Error {}

export const ZERO_TIME = "0001-01-01T00:00:00Z";
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/** Go's time.Time round trip: parse RFC3339 (any fraction), print RFC3339Nano (zeros trimmed, +00:00 as Z). */
export function normalizeGoTime(text: string): string | undefined {
  const match = RFC3339.exec(text);
  if (!match || Number.isNaN(Date.parse(text))) return undefined;
  const fraction = (match[2] ?? "").slice(0, 9).replace(/0+$/, "");
  const zone = match[3] === "+00:00" || match[3] === "-00:00" ? "Z" : match[3];
  return `${match[1]}${fraction ? `.${fraction}` : ""}${zone}`;
}

/** A JS Date as Go's json.Marshal prints a UTC time.Time (RFC3339Nano, trailing zeros trimmed). */
export function goTime(date: Date): string {
  return normalizeGoTime(date.toISOString()) ?? ZERO_TIME;
}

let nanoTick = 0n;

/** Go's `time.Now().UnixNano()`, unique per call within this process. */
export function unixNano(): bigint {
  nanoTick = (nanoTick + 1n) % 1_000_000n;
  return BigInt(Date.now()) * 1_000_000n + nanoTick;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function zeroOf(kind: Kind): unknown {
  switch (kind.t) {
    case "string":
      return "";
    case "int":
    case "float":
      return 0;
    case "bool":
      return false;
    case "time":
      return ZERO_TIME;
    case "struct":
      return Object.fromEntries(kind.fields.map((f) => [f.key, zeroOf(f.kind)]));
    default:
      return null; // slices, maps and pointers are nil
  }
}

function fail(path: string, want: string, got: unknown): never {
  const type = got === null ? "null" : Array.isArray(got) ? "array" : typeof got;
  throw new BindError(`json: cannot unmarshal ${type} into Go struct field ${path} of type ${want}`);
}

/** Decodes `value` into a value of `kind`, starting from `current` as Go does. */
export function decode(kind: Kind, value: unknown, current: unknown, path: string): unknown {
  if (value === null) return ["strings", "anyMap", "stringMap", "ptr", "structs", "any"].includes(kind.t) ? null : current;
  switch (kind.t) {
    case "any": // interface{}: any JSON value
      return value;
    case "string":
      return typeof value === "string" ? value : fail(path, "string", value);
    case "int":
      return typeof value === "number" && Number.isInteger(value) ? value : fail(path, "int", value);
    case "float":
      return typeof value === "number" ? value : fail(path, "float64", value);
    case "bool":
      return typeof value === "boolean" ? value : fail(path, "bool", value);
    case "time": {
      const time = typeof value === "string" ? normalizeGoTime(value) : undefined;
      return time ?? fail(path, "time.Time", value);
    }
    case "strings":
      if (!Array.isArray(value)) fail(path, "[]string", value);
      return value.map((item) => (item === null ? "" : decode({ t: "string" }, item, "", path)));
    case "anyMap":
      return isObject(value) ? { ...(isObject(current) ? current : {}), ...value } : fail(path, "map[string]interface {}", value);
    case "stringMap": {
      if (!isObject(value)) fail(path, "map[string]string", value);
      const out: Record<string, unknown> = isObject(current) ? { ...current } : {};
      for (const [k, v] of Object.entries(value)) out[k] = decode({ t: "string" }, v, "", path);
      return out;
    }
    case "structs":
      if (!Array.isArray(value)) fail(path, "[]struct", value);
      return value.map((item) => decode({ t: "struct", fields: kind.fields }, item, zeroOf({ t: "struct", fields: kind.fields }), path));
    case "ptr":
    case "struct": {
      if (!isObject(value)) fail(path, "struct", value);
      const base = isObject(current) ? current : (zeroOf({ t: "struct", fields: kind.fields }) as Record<string, unknown>);
      const out: Record<string, unknown> = { ...base };
      for (const [key, item] of Object.entries(value)) {
        const field = kind.fields.find((f) => f.key === key) ?? kind.fields.find((f) => f.key.toLowerCase() === key.toLowerCase());
        if (field) out[field.key] = decode(field.kind, item, out[field.key], `${path}.${field.key}`);
      }
      return out;
    }
  }
}

function isEmpty(kind: Kind, value: unknown): boolean {
  if (value === null || value === undefined || value === "" || value === 0 || value === false) return kind.t !== "time" && kind.t !== "struct";
  if (Array.isArray(value)) return value.length === 0;
  return kind.t !== "struct" && isObject(value) && Object.keys(value).length === 0;
}

/** Encodes a decoded value as Go's json.Marshal would (field order kept, omitempty applied). */
export function encode(kind: Kind, value: unknown): unknown {
  if (kind.t === "struct" || kind.t === "ptr") {
    if (!isObject(value)) return kind.t === "ptr" ? null : encode(kind, zeroOf({ t: "struct", fields: kind.fields }));
    const out: Record<string, unknown> = {};
    for (const field of kind.fields) {
      const item = value[field.key];
      if (field.omitempty && isEmpty(field.kind, item)) continue;
      out[field.key] = encode(field.kind, item);
    }
    return out;
  }
  if (kind.t === "structs") return Array.isArray(value) ? value.map((item) => encode({ t: "struct", fields: kind.fields }, item)) : null;
  return value === undefined ? zeroOf(kind) : value;
}
