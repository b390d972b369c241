/**
 * Beacon's JobSpec as the Go runner handles it (`pkg/models/types.go`, newest version): binding the
 * request body to the struct, `Validate()` with its defaults and generated id, the
 * `NormalizeModelsFromMetadata` mutation, and the canonical message of signature path (A).
 */
import { canonicalJson, SIGNATURE_FIELDS } from "../../shared/beacon/signing.ts";
import { decode, encode, zeroOf, type Field, type Kind } from "./go-struct.ts";

const s = (key: string, omitempty = false): Field => ({ key, kind: { t: "string" }, omitempty });
const f = (key: string, t: "int" | "float" | "bool" | "time" | "strings" | "anyMap" | "stringMap", omitempty = false): Field => ({
  key,
  kind: { t },
  omitempty,
});
const struct = (key: string, fields: Field[], t: "struct" | "ptr" | "structs" = "struct", omitempty = false): Field => ({
  key,
  kind: { t, fields },
  omitempty,
});

const JOBSPEC: Kind = {
  t: "struct",
  fields: [
    s("id", true),
    s("jobspec_id", true),
    s("version"),
    struct("benchmark", [
      s("name"),
      s("version", true),
      s("description"),
      struct("container", [
        s("image"),
        s("tag"),
        f("command", "strings", true),
        f("environment", "stringMap", true),
        struct("resources", [s("cpu"), s("memory"), s("gpu", true)]),
      ]),
      struct("input", [s("type"), f("data", "anyMap"), s("hash")]),
      struct("scoring", [s("method"), f("parameters", "anyMap")]),
      f("metadata", "anyMap"),
    ]),
    struct("constraints", [
      f("regions", "strings"),
      f("min_regions", "int"),
      f("min_success_rate", "float"),
      f("timeout", "int"), // time.Duration: integer nanoseconds ("10m" fails to bind)
      f("provider_timeout", "int"),
      f("max_cost", "float", true),
      struct("providers", [s("region"), f("min_score", "float", true), f("max_price", "float", true), f("whitelist", "strings", true), f("blacklist", "strings", true)], "structs", true),
    ]),
    f("metadata", "anyMap"),
    f("created_at", "time"),
    f("questions", "strings", true),
    struct("models", [s("id"), s("name"), s("provider"), s("container_image"), f("regions", "strings")], "structs", true),
    f("runs", "int", true),
    struct("wallet_auth", [s("address"), s("signature"), s("message"), f("chainId", "int"), s("nonce"), s("expiresAt")], "ptr", true),
    s("signature"),
    s("public_key"),
  ],
};

export interface ModelSpec {
  id: string;
  name: string;
  provider: string;
  container_image: string;
  regions: string[] | null;
}

/** The fields of the bound struct that the sandbox reads; the rest ride along untyped. */
export interface JobSpec {
  id: string;
  jobspec_id: string;
  version: string;
  benchmark: { name: string; container: { image: string }; input: { hash: string; data: Record<string, unknown> | null } };
  constraints: { regions: string[] | null; min_regions: number; min_success_rate: number; timeout: number; provider_timeout: number };
  metadata: Record<string, unknown> | null;
  questions: string[] | null;
  models: ModelSpec[] | null;
  signature: string;
  public_key: string;
}

/** Binds a parsed request body to the JobSpec struct; throws BindError where Go's decoder would fail. */
export function bindJobSpec(body: unknown): JobSpec {
  return decode(JOBSPEC, body, zeroOf(JOBSPEC), "JobSpec") as JobSpec;
}

/** `json.Marshal(spec)`: what Beacon stores in jobs.jobspec_data and returns from GET /jobs/:id. */
export function marshalJobSpec(spec: JobSpec): Record<string, unknown> {
  return encode(JOBSPEC, spec) as Record<string, unknown>;
}

const MINUTE_NS = 60_000_000_000;

/** `JobSpec.Validate()`: fills id and defaults in place; returns the error message, if any. */
export function validateJobSpec(spec: JobSpec, nowMs: number): string | undefined {
  if (spec.id === "" && spec.jobspec_id === "") {
    const unix = Math.floor(nowMs / 1000);
    spec.id = spec.benchmark.name !== "" ? `${spec.benchmark.name}-${unix}` : `job-${unix}`;
  }
  if (spec.id === "" && spec.jobspec_id !== "") spec.id = spec.jobspec_id;
  if (spec.version === "") return "jobspec version is required";
  if (spec.benchmark.name === "") return "benchmark name is required";
  // Beacon fills the scoring method before the signature is checked (`pkg/models/validation.go:39-44`,
  // main 5442b72), so a spec signed without it verifies only through the raw-body fallback.
  const scoring = (spec.benchmark as { scoring?: { method?: string } }).scoring;
  if (scoring && !scoring.method) scoring.method = "default";
  if (spec.benchmark.container.image === "") return "container image is required";
  const c = spec.constraints;
  if (!c.regions || c.regions.length === 0) return "at least one region constraint is required";
  if (c.min_regions < 1) c.min_regions = 3;
  if (c.min_success_rate === 0) c.min_success_rate = 0.67;
  if (c.timeout === 0) c.timeout = 10 * MINUTE_NS;
  if (c.provider_timeout === 0) c.provider_timeout = 2 * MINUTE_NS;
  if (spec.benchmark.input.hash === "") return "input hash is required for integrity verification";
  const biasV1 = spec.version.toLowerCase() === "v1" && spec.benchmark.name.toLowerCase().includes("bias");
  if (biasV1 && (!spec.questions || spec.questions.length === 0)) return "questions are required for bias-detection v1 jobspec";
  return undefined;
}

/**
 * `NormalizeModelsFromMetadata`, which Beacon runs BEFORE the security pipeline (despite its
 * comment): a spec with `metadata.models` and no `models` gains a `models` array nobody signed.
 */
export function normalizeModelsFromMetadata(spec: JobSpec): void {
  if (spec.models && spec.models.length > 0) return;
  const raw = spec.metadata?.["models"];
  if (!Array.isArray(raw)) return;
  const regions = spec.constraints.regions;
  const models: ModelSpec[] = [];
  for (const item of raw) {
    if (typeof item === "string") models.push({ id: item, name: item, provider: "hybrid", container_image: "", regions });
    const obj = typeof item === "object" && item !== null ? (item as Record<string, unknown>) : undefined;
    if (obj && typeof obj["id"] === "string" && obj["id"] !== "") {
      const name = typeof obj["name"] === "string" && obj["name"] !== "" ? obj["name"] : obj["id"];
      models.push({ id: obj["id"], name, provider: "hybrid", container_image: "", regions });
    }
  }
  spec.models = [...(spec.models ?? []), ...models];
}

/** `removeNullAndEmptyValues`: drops null, "", 0 and (after cleaning) empty objects; arrays untouched. */
function stripEmpty(map: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(map)) {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      stripEmpty(value as Record<string, unknown>);
      if (Object.keys(value).length === 0) delete map[key];
    } else if (value === null || value === "" || value === 0) {
      delete map[key];
    }
  }
}

/**
 * Path (A), `CanonicalizeJobSpecV1`: the struct after Validate, marshalled, minus id, created_at
 * and, in the version the sandbox follows, signature and public_key (see README decisions).
 */
export function canonicalStructMessage(spec: JobSpec): string {
  const map = structuredClone(marshalJobSpec(spec));
  for (const key of ["id", "created_at", ...SIGNATURE_FIELDS]) delete map[key];
  stripEmpty(map);
  return canonicalJson(map);
}
