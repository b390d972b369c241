/**
 * A YAML writer for the plain data our exports produce (objects, arrays, strings, numbers, booleans):
 * block style, strings double-quoted the JSON way (valid YAML), multi-line strings as `|-` blocks so
 * PromQL reads as written. Not a general serializer: no anchors, no custom tags.
 */
export function toYaml(value: unknown): string {
  return `${lines(value, 0).join("\n")}\n`;
}

type Scalar = string | number | boolean | null;

const isScalar = (v: unknown): v is Scalar => v === null || ["string", "number", "boolean"].includes(typeof v);

function scalar(v: Scalar): string {
  if (typeof v === "number" && !Number.isFinite(v)) throw new Error(`cannot write ${v} as YAML`);
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

function key(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k) ? k : JSON.stringify(k);
}

/** `k: v` (or `k:` and a nested block) at `indent`. */
function entry(k: string, v: unknown, indent: number): string[] {
  const pad = " ".repeat(indent);
  if (typeof v === "string" && v.includes("\n")) {
    // A literal block cannot keep trailing spaces, a final newline or a leading indent as written: quote those.
    if (v.split("\n").some((l) => l !== l.trimEnd()) || v.startsWith(" ") || v.endsWith("\n")) return [`${pad}${key(k)}: ${scalar(v)}`];
    return [`${pad}${key(k)}: |-`, ...v.split("\n").map((l) => (l ? `${pad}  ${l}` : ""))];
  }
  if (isScalar(v)) return [`${pad}${key(k)}: ${scalar(v)}`];
  if (Array.isArray(v) && v.length === 0) return [`${pad}${key(k)}: []`];
  if (!Array.isArray(v) && Object.keys(v as object).length === 0) return [`${pad}${key(k)}: {}`];
  return [`${pad}${key(k)}:`, ...lines(v, indent + 2)];
}

function lines(value: unknown, indent: number): string[] {
  const pad = " ".repeat(indent);
  if (isScalar(value)) return [`${pad}${scalar(value)}`];
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      const inner = isScalar(item) ? [`${pad}  ${scalar(item)}`] : lines(item, indent + 2);
      return [`${pad}- ${inner[0]!.trimStart()}`, ...inner.slice(1)];
    });
  }
  if (typeof value === "object" && value !== null) return Object.entries(value).filter(([, v]) => v !== undefined).flatMap(([k, v]) => entry(k, v, indent));
  throw new Error(`cannot write ${typeof value} as YAML`);
}
