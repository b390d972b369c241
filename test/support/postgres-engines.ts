import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { freePort, localUser, onPath, probeTcp, run, spawnService } from "./processes.ts";

export type PostgresEngine = "external" | "throwaway" | "pglite";

/** A Postgres reachable on a loopback TCP port (the ws proxy only dials loopback). */
export interface PostgresInstance {
  engine: PostgresEngine;
  connectionString: string;
  /** For describe(): where it runs, e.g. "external 127.0.0.1:5432". */
  label: string;
  close(): Promise<void>;
}

/** A server already listening: SENTINEL_TEST_PG_URL, else PGHOST/PGPORT/PGUSER/PGDATABASE, else local defaults. */
export async function externalPostgres(env: NodeJS.ProcessEnv): Promise<PostgresInstance> {
  const host = env.PGHOST && !env.PGHOST.startsWith("/") ? env.PGHOST : "127.0.0.1"; // a socket dir can't be proxied
  const connectionString =
    env.SENTINEL_TEST_PG_URL ??
    `postgresql://${env.PGUSER ?? "postgres"}@${host}:${env.PGPORT ?? "5432"}/${env.PGDATABASE ?? "postgres"}`;
  const url = new URL(connectionString);
  await probeTcp(url.hostname.replace(/^\[(.*)\]$/, "$1"), Number(url.port || 5432));
  return { engine: "external", connectionString, label: `external ${url.host}`, close: async () => {} };
}

/** A fresh cluster from initdb in a temp dir, trust auth, deleted on close. */
export async function throwawayPostgres(): Promise<PostgresInstance> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error("no initdb/postgres binaries (looked in /usr/lib/postgresql/*/bin and PATH)");
  // Postgres refuses to run as root; on root-only machines (containers, CI) use the postgres account.
  const user = process.getuid?.() === 0 ? localUser("postgres") : undefined;
  if (process.getuid?.() === 0 && user === undefined) throw new Error("running as root and no 'postgres' account to run initdb as");
  const dir = await mkdtemp(join(tmpdir(), "sentinel-pg-"));
  try {
    if (user !== undefined) await chown(dir, user.uid, user.gid);
    const data = join(dir, "data");
    await run(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "-N"], user);
    const port = await freePort();
    // Durability is pointless for a database deleted after the run; these make DDL-heavy tests fast.
    const settings = ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "listen_addresses=127.0.0.1", `unix_socket_directories=${dir}`];
    const server = await spawnService(join(bin, "postgres"), ["-D", data, "-p", String(port), ...settings.flatMap((s) => ["-c", s])], {
      ready: /ready to accept connections/,
      timeoutMs: 30_000,
      stopSignal: "SIGINT", // "fast" shutdown: no waiting for clients to disconnect
      ...(user === undefined ? {} : { user }),
    });
    return {
      engine: "throwaway",
      connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres`,
      label: `throwaway ${bin} 127.0.0.1:${port}`,
      close: async () => {
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Real Postgres compiled to WASM, served over TCP (see pglite-server.ts). It is one session running
 * one client at a time and serializes transactions across connections: a test that holds a
 * transaction open while it waits on a second connection deadlocks here (and only here).
 */
export async function pglitePostgres(opts: { maxConnections: number }): Promise<PostgresInstance> {
  const { PGlite } = await import("@electric-sql/pglite"); // loaded only when used: the WASM is large
  const { servePglite } = await import("./pglite-server.ts");
  const db = await PGlite.create();
  const port = await freePort();
  const server = await servePglite(db, { port, maxConnections: opts.maxConnections });
  return {
    engine: "pglite",
    connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    label: `pglite (in-process WASM) 127.0.0.1:${port}`,
    close: async () => {
      await server.close();
      await db.close();
    },
  };
}

/** Newest /usr/lib/postgresql/<v>/bin with initdb and postgres, else the directory of initdb on PATH. */
export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const candidates = versions.map((v) => join(root, v, "bin"));
  const initdb = onPath("initdb");
  if (initdb !== undefined) candidates.push(dirname(initdb));
  return candidates.find((dir) => existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres")));
}
