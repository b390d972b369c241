import { createServer, type Socket } from "node:net";
import type { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from "@electric-sql/pglite-socket";
import { dataRows, errorResponse, literal, readyForQuery, simpleQuery, startupSettings } from "./pglite-wire.ts";

/**
 * How long a connection waits for another connection's open transaction before it gets an error.
 * Real Postgres would run it concurrently; here it would hang forever if the transaction's owner
 * waits on it (a test that locks a table, then probes it from a second connection).
 */
export const PGLITE_MAX_WAIT_MS = 5000;

/**
 * Serves one PGlite to many TCP clients. PGlite is a single Postgres session, so pglite-socket's
 * own queue lets connections share session state: one pool's `SET default_transaction_read_only`
 * or the `options=-c search_path=...` of another test file would leak into every connection, and
 * two clients' extended-protocol messages (Parse/Bind/Execute/Sync) may interleave. This queue
 * (plugged into pglite-socket's per-connection handler) runs one client's batch up to Sync, or its
 * whole transaction, before switching, and on each switch saves the session-level settings of the
 * client leaving and restores those of the client arriving, starting from its startup `options`.
 * Still shared: temp tables, named prepared statements, LISTEN, advisory locks. A client kept
 * waiting longer than PGLITE_MAX_WAIT_MS gets a clear SQL error instead of hanging.
 */
export async function servePglite(db: PGlite, opts: { port: number; maxConnections: number }): Promise<{ close(): Promise<void> }> {
  const sockets = new Map<number, Socket>();
  // Postgres closes the connection on Terminate; pglite-socket does not, and a client that waits for
  // the server to hang up (the Neon driver does) would keep its process alive.
  const queue = new SessionQueue(db, (handlerId) => sockets.get(handlerId)?.end());
  const handlers = new Set<PGLiteSocketHandler>();
  const server = createServer((socket: Socket) => {
    const handler = new PGLiteSocketHandler({ queryQueue: queue as unknown as PGLiteSocketHandlerOptions["queryQueue"], closeOnDetach: true });
    handlers.add(handler);
    sockets.set(handler.handlerId, socket);
    socket.once("close", () => {
      handlers.delete(handler);
      sockets.delete(handler.handlerId);
    });
    void handler.attach(socket);
  });
  server.maxConnections = opts.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", resolve);
  });
  return {
    async close() {
      await Promise.all([...handlers].map((h) => h.detach(true)));
      queue.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Item {
  handlerId: number;
  queuedAtMs: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: Error) => void;
}

type Settings = Array<[name: string, value: string]>;
const BATCH_END = new Set(["S", "Q", "X"].map((c) => c.charCodeAt(0))); // Sync, simple Query, Terminate

/** Implements the duck-typed queue interface that PGLiteSocketHandler calls. */
class SessionQueue {
  private items: Item[] = [];
  private draining = false;
  /** The client that must finish its batch or transaction before another may run. */
  private owner: number | undefined;
  /** The client whose settings are loaded in the session. */
  private active: number | undefined;
  private settings = new Map<number, Settings>();
  /** Clients sent an error for waiting too long; their messages are dropped up to the next Sync. */
  private failing = new Set<number>();
  private waitTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: PGlite,
    private readonly onTerminate: (handlerId: number) => void,
  ) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.items.push({ handlerId, queuedAtMs: performance.now(), message, onData, resolve, reject });
      void this.drain();
    });
  }

  stop(): void {
    clearTimeout(this.waitTimer);
  }

  getQueueLength(): number {
    return this.items.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.failing.delete(handlerId);
    for (const item of this.items.filter((i) => i.handlerId === handlerId)) item.reject(new Error("Handler disconnected"));
    this.items = this.items.filter((i) => i.handlerId !== handlerId);
  }

  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    this.settings.delete(handlerId);
    if (this.active === handlerId) this.active = undefined;
    if (this.owner !== handlerId) return;
    this.owner = undefined;
    if (this.db.isInTransaction()) await this.db.runExclusive(() => this.query("ROLLBACK"));
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        const runnable = (i: Item) => this.owner === undefined || i.handlerId === this.owner || this.failing.has(i.handlerId);
        const index = this.items.findIndex(runnable);
        const item = index < 0 ? undefined : this.items.splice(index, 1)[0];
        if (item === undefined) break; // the owner's next message restarts the drain
        if (this.failing.has(item.handlerId)) this.discard(item);
        else await this.db.runExclusive(() => this.execute(item));
      }
    } finally {
      this.draining = false;
    }
    this.armWaitTimer();
  }

  private armWaitTimer(): void {
    clearTimeout(this.waitTimer);
    const oldest = Math.min(...this.items.map((i) => i.queuedAtMs));
    if (!Number.isFinite(oldest)) return;
    this.waitTimer = setTimeout(() => this.failWaiters(), Math.max(0, oldest + PGLITE_MAX_WAIT_MS - performance.now()));
    this.waitTimer.unref();
  }

  /** Answers each client waiting too long with an ErrorResponse, as Postgres answers a lock timeout. */
  private failWaiters(): void {
    if (this.owner === undefined) return void this.drain(); // nobody blocks: the queue is just busy
    const now = performance.now();
    for (const handlerId of new Set(this.items.map((i) => i.handlerId))) {
      const index = this.items.findIndex((i) => i.handlerId === handlerId);
      const item = this.items[index];
      if (item === undefined || handlerId === this.owner || now - item.queuedAtMs < PGLITE_MAX_WAIT_MS) continue;
      this.items.splice(index, 1);
      const message = `PGlite: waited ${PGLITE_MAX_WAIT_MS} ms for another connection's transaction to end`;
      const hint = "PGlite (the embedded test engine) runs one transaction at a time for all connections: a test that holds a transaction open while it waits on another connection needs a real Postgres (SENTINEL_TEST_PG=external or throwaway).";
      item.onData(errorResponse("55P03", message, hint));
      this.failing.add(handlerId);
      this.discard(item); // a simple Query or Sync gets its ReadyForQuery at once
    }
    void this.drain();
  }

  /** Extended protocol after an error: skip every message up to Sync, then report ready. */
  private discard(item: Item): void {
    const type = item.message[0];
    if (type === 0x53 || type === 0x51) {
      item.onData(readyForQuery());
      this.failing.delete(item.handlerId);
    }
    item.resolve(0);
  }

  private async execute(item: Item): Promise<void> {
    const startup = item.message[0] === 0; // a StartupMessage begins with its length, not a type byte
    try {
      if (startup) this.settings.set(item.handlerId, startupSettings(item.message));
      else if (this.active !== item.handlerId) await this.switchTo(item.handlerId);
      let bytes = 0;
      await this.db.execProtocolRawStream(item.message, { onRawData: (data) => ((bytes += data.length), item.onData(data)) });
      item.resolve(bytes);
    } catch (error) {
      item.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (item.message[0] === 0x58) this.onTerminate(item.handlerId); // 'X'
    const batchEnds = startup || BATCH_END.has(item.message[0] ?? 0);
    this.owner = batchEnds && !this.db.isInTransaction() ? undefined : item.handlerId;
  }

  private async switchTo(handlerId: number): Promise<void> {
    if (this.active !== undefined && this.settings.has(this.active)) {
      const rows = await this.query("SELECT name, setting FROM pg_settings WHERE source = 'session'");
      this.settings.set(this.active, rows.map(([name, value]) => [name ?? "", value ?? ""]));
    }
    await this.query("RESET ALL");
    const wanted = this.settings.get(handlerId) ?? [];
    if (wanted.length > 0) await this.query(`SELECT ${wanted.map(([n, v]) => `set_config(${literal(n)}, ${literal(v)}, false)`).join(", ")}`);
    this.active = handlerId;
  }

  /** A simple query whose output goes to us, not to a client (the stream callback is per call). */
  private async query(sql: string): Promise<Array<Array<string | null>>> {
    const chunks: Buffer[] = [];
    await this.db.execProtocolRawStream(simpleQuery(sql), { onRawData: (data) => chunks.push(Buffer.from(data)) });
    return dataRows(Buffer.concat(chunks), sql);
  }
}
