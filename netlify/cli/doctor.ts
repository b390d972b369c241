import { parseArgs } from "node:util";
import { doctor, formatDoctor } from "../../shared/remediation/doctor.ts";
import { createRuntime } from "../runtime.ts";
import { UsageError } from "./errors.ts";

/**
 * `beacon-sentinel doctor [--json]`: connects read-only to BEACON_DATABASE_URL (the sentinel's own SQL
 * client: read-only sessions, statement timeout) and checks the indexes the sentinel's statements rely
 * on. Exit 0 when all exist, 1 with `CREATE INDEX CONCURRENTLY` advice, 64 bad usage, 2 unreachable.
 */
export async function doctorCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: "boolean", default: false } } });
  const rt = createRuntime(process.env, { requireStore: false, requireBeacon: false });
  try {
    const sql = rt.deps.sql;
    if (!sql) throw new UsageError("BEACON_DATABASE_URL is not set: doctor reads Beacon's database");
    const report = await doctor(sql, rt.config.settings.beacon.tables);
    const label = rt.targets.databaseLabel ?? "database";
    process.stdout.write(`${values.json ? JSON.stringify({ database: label, ...report }, null, 2) : formatDoctor(report, label)}\n`);
    return report.ok ? 0 : 1;
  } finally {
    await rt.close();
  }
}
