/** Types for parse-prometheus-text-format 1.1.1 (it ships none): the prom2json-like output it returns. */
declare module "parse-prometheus-text-format" {
  export interface PromSample {
    value?: string;
    labels?: Record<string, string>;
    timestamp_ms?: string;
    buckets?: Record<string, string>;
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  export interface PromFamily {
    name: string;
    help: string;
    type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED" | string;
    metrics: PromSample[];
  }
  /** Throws InvalidLineError ("Encountered invalid line: ...") on some malformed lines. */
  export default function parsePrometheusTextFormat(text: string): PromFamily[];
}
