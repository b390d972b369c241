import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onPath } from "./processes.ts";

/**
 * Prometheus' own linter, from Debian's `prometheus` package. Missing on a developer's machine, the
 * tests that need it are skipped with a banner; under CI (CI=true) its absence fails the run, so a
 * green CI always means promtool accepted our output.
 */
export const PROMTOOL = onPath("promtool");

export function requirePromtool(): boolean {
  if (PROMTOOL) return true;
  if (process.env.CI === "true") throw new Error("promtool is not installed: CI must run it (apt-get install prometheus)");
  console.warn("\n*** promtool not found: skipping the promtool checks (apt-get install prometheus to run them) ***\n");
  return false;
}

export interface PromtoolOutcome {
  code: number;
  out: string;
}

/** Runs promtool with `args`; `stdin` is fed to it when given. Never throws on a non-zero exit. */
export function promtool(args: string[], stdin?: string): Promise<PromtoolOutcome> {
  return new Promise((resolve, reject) => {
    const child = execFile(PROMTOOL!, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      if (code === -1) return reject(error);
      resolve({ code, out: `${stdout}${stderr}` });
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

/** Writes `files` (name -> text) into a fresh directory, runs `fn` in it, and removes it. */
export async function inTempDir<T>(files: Record<string, string>, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "sentinel-promtool-"));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
