import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";
import { startWsProxy, type WsProxy } from "./support/ws-proxy.ts";
import { tick, TICK_SCHEDULE } from "../netlify/tick.ts";
import { BEACON_PER_RUN, SQL_SETS_PER_CONNECTION, projectCost } from "../shared/cost/model.ts";
import { scheduleOf } from "../shared/config/index.ts";
import { PROBES } from "../shared/probes/catalog.ts";
import { closePool, createSqlPool } from "../shared/db.ts";
import { createSqlClient } from "../shared/sql.ts";

/**
 * What a tick costs Beacon's database, counted at the database's door: a WebSocket proxy of the tests'
 * own (test/support/ws-proxy.ts) reads every frontend message the Neon driver sends Postgres.
 */
describe("a light touch on Beacon's database", () => {
  let h: Harness;
  let sandbox: Sandbox;
  let proxy: WsProxy;

  beforeAll(async () => {
    h = await createHarness();
    sandbox = await h.start();
    proxy = await startWsProxy();
  });
  afterAll(async () => {
    await proxy?.close();
    await h?.close();
  });

  it("opens at most one connection a tick, set up with one statement, and sends the statements the probes declare", async () => {
    const minute = 60_000;
    const clock = { t: Math.ceil(Date.now() / (60 * minute)) * 60 * minute }; // on the hour: every probe is due at the first tick
    const rt = sentinelRuntime(sentinelEnv(h, sandbox, {}, { NEON_WS_PROXY: proxy.address, SENTINEL_KEY_PREFIX: `${h.prefix}touch:` }), {
      now: () => new Date(clock.t), log: { info() {}, warn() {}, error() {} },
    });
    try {
      for (let i = 0; i < 5; i++) {
        proxy.meter.reset();
        const report = await tick(rt, { write: true });
        // No canary signing key: the canary runs idle and touches nothing.
        const declared = report.results.filter((r) => r.probe !== "canary").reduce((n, r) => n + (BEACON_PER_RUN[r.probe]?.sql ?? 0), 0);
        expect(proxy.meter.connections).toBeLessThanOrEqual(1);
        // Health's database check sends nothing on a new connection (the set-up answered), SELECT 1 on a reused one:
        // here the ticks are milliseconds apart and reuse the pool's connection; a minute apart each opens one.
        const ping = report.results.some((r) => r.probe === "health") && proxy.meter.connections === 0 ? 1 : 0;
        expect({ tick: i, statements: proxy.meter.statements }).toEqual({ tick: i, statements: declared + proxy.meter.connections * SQL_SETS_PER_CONNECTION + ping });
        if (i === 0) {
          // The first tick runs health (0), outbox (1: three queries in one statement), receipts (1) and regions (1) on one fresh connection, set up with 1.
          expect(proxy.meter.connections).toBe(1);
          expect(proxy.meter.statements).toBe(4);
          expect(proxy.meter.texts.filter((t) => /^\s*SELECT 1 AS ok\s*$/.test(t))).toEqual([]);
          expect(proxy.meter.texts.filter((t) => /^\s*SET\b/i.test(t))).toEqual([]);
        }
        clock.t += minute;
      }
    } finally {
      await rt.close();
    }
  }, 120_000);

  it("under beacon.database.everyMinutes: 30 touches the database on minutes 0 and 30 only, as the cost model projects", async () => {
    const minute = 60_000;
    const clock = { t: Math.ceil(Date.now() / (60 * minute)) * 60 * minute };
    const rt = sentinelRuntime(sentinelEnv(h, sandbox, { beacon: { database: { everyMinutes: 30 } } }, { NEON_WS_PROXY: proxy.address, SENTINEL_KEY_PREFIX: `${h.prefix}touch30:` }), {
      now: () => new Date(clock.t), log: { info() {}, warn() {}, error() {} },
    });
    const touched: number[] = [];
    let statements = 0;
    try {
      for (let i = 0; i < 60; i++) {
        proxy.meter.reset();
        await tick(rt, { write: true });
        if (proxy.meter.statements > 0) touched.push(i);
        statements += proxy.meter.statements;
        clock.t += minute;
      }
    } finally {
      await rt.close();
    }
    // Neon sleeps from minute 5 to 30 and from 35 to 60: health's connection, outbox, receipts and regions all on the same two minutes.
    expect(touched).toEqual([0, 30]);
    // Each: the connection's set-up (or SELECT 1 on the pool's reused one) and one statement each for outbox, receipts and regions.
    expect(statements).toBe(8);
    const hour = projectCost({
      tickSchedule: TICK_SCHEDULE, schedules: Object.fromEntries(PROBES.map((p) => [p.id, scheduleOf(rt.config.settings, p)])), healthUrls: 0,
      canaryEnabled: false, canaryIntervalMinutes: 30, databaseEveryMinutes: 30, pageHoursPerDay: 0, pageRefreshSeconds: 300, stateBytes: 0, statusBytes: 0,
    }, 60);
    expect([hour.beacon.sqlStatements, hour.beacon.sqlConnections, hour.beacon.neonAwakeHours * 60]).toEqual([8, 2, 10]);
  }, 180_000);

  it("the one set-up statement still makes the session read-only, time-bounded, UTC and JIT-free (work_mem 16MB), before the first query", async () => {
    const pool = createSqlPool({ connectionString: h.db.connectionString, wsProxy: proxy.address, max: 1 });
    const sql = createSqlClient(pool, { statementTimeoutMs: 4_321 });
    try {
      proxy.meter.reset();
      const [settings] = await sql.query<{ ro: string; timeout: string; zone: string; jit: string; mem: string }>(
        "SELECT current_setting('default_transaction_read_only') AS ro, current_setting('statement_timeout') AS timeout, current_setting('TimeZone') AS zone, current_setting('jit') AS jit, current_setting('work_mem') AS mem");
      expect(settings).toEqual({ ro: "on", timeout: "4321ms", zone: "UTC", jit: "off", mem: "16MB" });
      await expect(sql.query("CREATE TABLE sentinel_must_not_write (x int)")).rejects.toThrow(/read-only transaction/);
      expect(proxy.meter).toMatchObject({ connections: 1, statements: 3 });
    } finally {
      await closePool(pool);
    }
  });
});
