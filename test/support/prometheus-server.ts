import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toYaml } from "../../shared/export/yaml.ts";
import { freePort, onPath, spawnService } from "./processes.ts";

/**
 * Debian's `prometheus` server (the package that brings promtool), started for a test on a free
 * loopback port with its own storage in a temp dir: it scrapes one target every second and evaluates
 * the given rule file every second, so a test sees rules and alerts as an operator's Prometheus would.
 * Under CI a missing binary fails the run; elsewhere the tests that need it are skipped with a banner.
 */
export const PROMETHEUS = onPath("prometheus");

export function requirePrometheus(): boolean {
  if (PROMETHEUS) return true;
  if (process.env.CI === "true") throw new Error("prometheus is not installed: CI must run it (apt-get install prometheus)");
  console.warn("\n*** prometheus not found: skipping the real-Prometheus tests (apt-get install prometheus to run them) ***\n");
  return false;
}

export interface PrometheusServer {
  url: string;
  /** GET of one of its /api/v1 paths; the `data` of a `success` answer, else throws with Prometheus' error. */
  api(path: string, query?: Record<string, string>): Promise<any>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** The URL to scrape (scheme, host and port, and path). */
  target: string;
  rules: string;
  /** Sent as `Authorization: Bearer <token>` on every scrape. */
  bearerToken?: string;
}

export async function startPrometheus(o: PrometheusOptions): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), "sentinel-prometheus-"));
  const target = new URL(o.target);
  const config = {
    global: { scrape_interval: "1s", scrape_timeout: "900ms", evaluation_interval: "1s" },
    rule_files: [join(dir, "rules.yml")],
    scrape_configs: [{
      job_name: "sentinel", scheme: target.protocol.replace(":", ""), metrics_path: target.pathname,
      ...(o.bearerToken ? { authorization: { type: "Bearer", credentials: o.bearerToken } } : {}),
      static_configs: [{ targets: [target.host] }],
    }],
  };
  await writeFile(join(dir, "rules.yml"), o.rules);
  await writeFile(join(dir, "prometheus.yml"), toYaml(config));
  const port = await freePort();
  const service = await spawnService(PROMETHEUS!, [
    `--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`, "--log.level=info",
  ], { ready: /Server is ready to receive web requests/, timeoutMs: 30_000 });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async api(path, query = {}) {
      const response = await fetch(`${url}/api/v1${path}?${new URLSearchParams(query)}`);
      const body = (await response.json()) as { status: string; data?: unknown; errorType?: string; error?: string };
      if (body.status !== "success") throw new Error(`prometheus ${path} ${JSON.stringify(query)}: HTTP ${response.status} ${body.errorType}: ${body.error}`);
      return body.data;
    },
    async stop() {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
