import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { delimiter, join } from "node:path";

/** A child server process that is stopped on close, and killed if the test process exits first. */
export interface ServiceProcess {
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Resolves once stdout or stderr matches (e.g. "ready to accept connections"). */
  ready: RegExp;
  timeoutMs: number;
  /** Run as this user (Postgres refuses to run as root). */
  user?: { uid: number; gid: number };
  /** Signal that shuts the server down quickly. Default SIGTERM. */
  stopSignal?: NodeJS.Signals;
}

export async function spawnService(command: string, args: string[], opts: SpawnOptions): Promise<ServiceProcess> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...(opts.user ?? {}) });
  // A crashed or interrupted run must not leave servers behind in /tmp.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${command} did not start: ${error.message}\n${output.slice(-2000)}`));
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (opts.ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", fail);
    child.once("exit", (code) => fail(new Error(`exited with code ${String(code)}`)));
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    stop: () => stopChild(child, opts.stopSignal ?? "SIGTERM").finally(() => process.off("exit", killOnExit)),
  };
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** Runs a command to completion; rejects with its output on failure. */
export async function run(command: string, args: string[], user?: { uid: number; gid: number }): Promise<void> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...(user ?? {}) });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} failed (${String(code)}):\n${output.slice(-2000)}`);
}

/** A port that was free a moment ago (another process may still take it: callers retry or fail loudly). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/** Rejects with a clear reason (e.g. ECONNREFUSED) when nothing accepts TCP connections at host:port. */
export async function probeTcp(host: string, port: number, timeoutMs = 1000): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once("connect", () => socket.end(resolve));
    socket.once("timeout", () => socket.destroy(new Error(`no answer from ${host}:${port} in ${timeoutMs} ms`)));
    socket.once("error", (e) => reject(new Error(`nothing listening on ${host}:${port} (${e.message})`)));
  });
}

/** Absolute path of an executable on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** uid/gid of a local account from /etc/passwd, or undefined. */
export function localUser(name: string): { uid: number; gid: number } | undefined {
  const line = readPasswd().find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(":") ?? [];
  return uid === undefined || gid === undefined ? undefined : { uid: Number(uid), gid: Number(gid) };
}

function readPasswd(): string[] {
  try {
    return readFileSync("/etc/passwd", "utf8").split("\n");
  } catch {
    return [];
  }
}
