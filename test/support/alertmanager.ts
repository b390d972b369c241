import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, onPath, spawnService } from "./processes.ts";

/**
 * Debian's prometheus-alertmanager, started for a test on a free loopback port with its own config
 * and storage, clustering off. It notifies `webhookUrl` (send_resolved on) after short group waits, so
 * a test sees what it groups and resolves as a receiver would. Under CI a missing binary fails the run;
 * elsewhere the tests that need it are skipped with a banner.
 */
export const ALERTMANAGER = onPath("prometheus-alertmanager") ?? onPath("alertmanager");

export function requireAlertmanager(): boolean {
  if (ALERTMANAGER) return true;
  if (process.env.CI === "true") throw new Error("alertmanager is not installed: CI must run it (apt-get install prometheus-alertmanager)");
  console.warn("\n*** alertmanager not found: skipping the Alertmanager tests (apt-get install prometheus-alertmanager) ***\n");
  return false;
}

export interface Alertmanager {
  url: string;
  /** GET of one of its API v2 paths, parsed. */
  api(path: string): Promise<any>;
  stop(): Promise<void>;
}

export async function startAlertmanager(webhookUrl: string): Promise<Alertmanager> {
  const dir = await mkdtemp(join(tmpdir(), "sentinel-alertmanager-"));
  const config = [
    "route:",
    "  receiver: hook",
    "  group_by: [stage]",
    "  group_wait: 200ms",
    "  group_interval: 1s",
    "  repeat_interval: 1h",
    "receivers:",
    "  - name: hook",
    "    webhook_configs:",
    `      - url: ${webhookUrl}`,
    "        send_resolved: true",
    "",
  ].join("\n");
  await writeFile(join(dir, "alertmanager.yml"), config);
  const port = await freePort();
  const service = await spawnService(ALERTMANAGER!, [
    `--config.file=${join(dir, "alertmanager.yml")}`, `--storage.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address=", "--log.level=info",
  ], { ready: /Listening on|listening on|Listening address/, timeoutMs: 20_000 });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async api(path) {
      const response = await fetch(`${url}/api/v2${path}`);
      if (!response.ok) throw new Error(`alertmanager ${path}: HTTP ${response.status}`);
      return response.json();
    },
    async stop() {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
