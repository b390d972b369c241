/**
 * Beacon's Prometheus metrics (`internal/metrics/metrics.go`): same names, help texts, labels and
 * default buckets, rendered in the text exposition format by hand (it is tiny).
 */

const DEF_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  labelNames: string[];
  series: Map<string, { labels: Labels; value: number; buckets: number[]; sum: number; count: number }>;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra: Labels = {}): string {
  const all = { ...labels, ...extra };
  const parts = Object.entries(all).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function num(value: number): string {
  return value === Infinity ? "+Inf" : String(value);
}

export class Metrics {
  private readonly families = new Map<string, Family>();

  constructor() {
    const counter = (name: string, help: string, labelNames: string[] = []) => this.define(name, help, "counter", labelNames);
    const gauge = (name: string, help: string) => this.define(name, help, "gauge", []);
    const histogram = (name: string, help: string, labelNames: string[]) => this.define(name, help, "histogram", labelNames);
    counter("http_requests_total", "Total HTTP requests.", ["path", "method", "status"]);
    histogram("http_request_duration_seconds", "Histogram of latencies for HTTP requests.", ["path", "method"]);
    counter("outbox_published_total", "Outbox messages published to Redis.");
    counter("outbox_publish_errors_total", "Errors publishing outbox messages.");
    counter("jobs_enqueued_total", "Jobs enqueued to main queue.");
    counter("jobs_processed_total", "Jobs processed successfully.");
    counter("jobs_failed_total", "Jobs that failed processing.");
    counter("jobs_retried_total", "Jobs re-enqueued for retry.");
    counter("jobs_deadletter_total", "Jobs sent to dead-letter queue.");
    gauge("outbox_unpublished_count", "Current number of unpublished outbox entries");
    gauge("outbox_oldest_unpublished_age_seconds", "Age in seconds of the oldest unpublished outbox entry");
    gauge("memory_heap_alloc_bytes", "Current heap allocated memory in bytes");
    gauge("memory_heap_sys_bytes", "Current heap system memory in bytes");
    gauge("memory_stack_inuse_bytes", "Current stack memory in use in bytes");
    gauge("goroutine_count", "Current number of goroutines");
    gauge("gc_pause_duration_seconds", "Duration of the last GC pause in seconds");
    gauge("websocket_connections", "Current number of active WebSocket connections.");
    counter("websocket_messages_broadcast_total", "Total WebSocket messages broadcast to clients.");
    counter("websocket_messages_dropped_total", "Total WebSocket messages dropped due to backpressure.");
    histogram("runner_execution_duration_seconds", "Execution duration by region and status.", ["region", "status"]);
    counter("runner_failures_total", "Total runner execution failures by region and error type.", ["region", "error_type", "component"]);
    histogram("runner_queue_latency_seconds", "Time spent in queue before a worker starts processing.", ["region"]);
    // promhttp's default registry adds the process collector: a restart shows as a new start time.
    gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.");
    gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
    this.set("process_start_time_seconds", Math.floor(Date.now() / 1000));
  }

  private define(name: string, help: string, type: Family["type"], labelNames: string[]): void {
    this.families.set(name, { name, help, type, labelNames, series: new Map() });
  }

  private series(name: string, labels: Labels) {
    const family = this.families.get(name);
    if (!family) throw new Error(`unknown metric ${name}`);
    const ordered = Object.fromEntries(family.labelNames.map((l) => [l, labels[l] ?? ""]));
    const key = JSON.stringify(ordered);
    let entry = family.series.get(key);
    if (!entry) {
      entry = { labels: ordered, value: 0, buckets: DEF_BUCKETS.map(() => 0), sum: 0, count: 0 };
      family.series.set(key, entry);
    }
    return entry;
  }

  inc(name: string, labels: Labels = {}, by = 1): void {
    this.series(name, labels).value += by;
  }

  set(name: string, value: number, labels: Labels = {}): void {
    this.series(name, labels).value = value;
  }

  observe(name: string, value: number, labels: Labels = {}): void {
    const entry = this.series(name, labels);
    DEF_BUCKETS.forEach((bound, i) => {
      if (value <= bound) entry.buckets[i]! += 1;
    });
    entry.sum += value;
    entry.count += 1;
  }

  /** Current value of a counter or gauge (0 if never touched); for tests and drain checks. */
  value(name: string, labels: Labels = {}): number {
    return this.series(name, labels).value;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    for (const family of this.families.values()) {
      lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
      if (family.labelNames.length === 0 && family.series.size === 0 && family.type !== "histogram") lines.push(`${family.name} 0`);
      for (const s of family.series.values()) {
        if (family.type !== "histogram") {
          lines.push(`${family.name}${labelText(s.labels)} ${num(s.value)}`);
          continue;
        }
        DEF_BUCKETS.forEach((bound, i) => lines.push(`${family.name}_bucket${labelText(s.labels, { le: num(bound) })} ${s.buckets[i]}`));
        lines.push(`${family.name}_bucket${labelText(s.labels, { le: "+Inf" })} ${s.count}`);
        lines.push(`${family.name}_sum${labelText(s.labels)} ${num(s.sum)}`, `${family.name}_count${labelText(s.labels)} ${s.count}`);
      }
    }
    return `${lines.join("\n")}\n`;
  }
}
