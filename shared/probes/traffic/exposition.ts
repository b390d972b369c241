import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { excerpt } from "../../http.ts";

/** One sample of a scrape: `name{labels} value` (timestamps are ignored). */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export type Exposition = { ok: true; samples: Sample[] } | { ok: false; message: string; evidence: string[] };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** How many bad samples are quoted as evidence. */
const BAD_SHOWN = 3;

/**
 * Parses the Prometheus text exposition format (0.0.4; OpenMetrics text reads the same way here) into
 * flat samples, or says why the body is not one.
 *
 * parse-prometheus-text-format tokenizes sample lines well (label escapes, timestamps) but its grouping
 * of families is wrong for what Beacon exports: a histogram with labels, such as
 * `runner_queue_latency_seconds{region}`, collapses into one bucket map where the last label set wins
 * and its `_count` is dropped, and a final line without "\n" is lost. So only the sample lines are
 * handed to it, HELP/TYPE comments removed: every sample name then forms its own untyped family that
 * keeps all its label sets. Like Prometheus, one malformed sample rejects the whole scrape.
 */
export function parseExposition(text: string): Exposition {
  const sampleLines = text.split("\n").filter((line) => {
    const trimmed = line.trim();
    return trimmed !== "" && !trimmed.startsWith("#");
  });
  if (sampleLines.length === 0) return { ok: false, message: "no samples in the body", evidence: [`body: ${excerpt(text) || "(empty)"}`] };

  let families: ReturnType<typeof parsePrometheusTextFormat>;
  try {
    families = parsePrometheusTextFormat(`${sampleLines.join("\n")}\n`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, message: "not the Prometheus text format", evidence: [excerpt(reason)] };
  }

  const samples: Sample[] = [];
  const bad: string[] = [];
  for (const family of families) {
    for (const metric of family.metrics) {
      const labels = metric.labels ?? {};
      const value = promFloat(metric.value ?? "");
      const problem = !METRIC_NAME.test(family.name)
        ? "invalid metric name"
        : Object.keys(labels).some((l) => !LABEL_NAME.test(l))
          ? "invalid label name"
          : value === undefined
            ? "invalid value"
            : undefined;
      if (problem) bad.push(`${problem}: ${excerpt(`${family.name}${formatLabels(labels)} ${metric.value ?? ""}`, 80)}`);
      else samples.push({ name: family.name, labels, value: value! });
    }
  }
  if (bad.length === 0 && samples.length !== sampleLines.length) {
    // The library silently drops samples without a name (e.g. a JSON body) and merges repeated series.
    const unnamed = sampleLines.filter((l) => !METRIC_NAME.test(l.trim().split(/[{\s]/)[0] ?? ""));
    const shown = unnamed.length ? unnamed.map((l) => `no metric name: ${excerpt(l, 80)}`) : [`${sampleLines.length} sample lines gave ${samples.length} samples (repeated series)`];
    bad.push(...shown);
  }
  if (bad.length > 0) {
    return { ok: false, message: `not the Prometheus text format (${bad.length} malformed sample${bad.length === 1 ? "" : "s"})`, evidence: bad.slice(0, BAD_SHOWN) };
  }
  return { ok: true, samples };
}

/** A sample value as Prometheus reads it: a Go float, `+Inf`, `-Inf` or `NaN`. */
function promFloat(raw: string): number | undefined {
  if (raw === "+Inf" || raw === "Inf") return Infinity;
  if (raw === "-Inf") return -Infinity;
  if (raw === "NaN") return Number.NaN;
  if (raw.trim() === "") return undefined;
  const n = Number(raw);
  return Number.isNaN(n) ? undefined : n;
}

function formatLabels(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}
