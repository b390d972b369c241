/** The few Postgres wire-protocol messages pglite-server.ts reads or writes itself. */

/** `-c name=value` (or `--name=value`) pairs from a StartupMessage's `options` parameter. */
export function startupSettings(message: Uint8Array): Array<[name: string, value: string]> {
  const parts = Buffer.from(message).subarray(8).toString("utf8").split("\0");
  let options = "";
  for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i] === "options") options = parts[i + 1] ?? "";
  return [...options.matchAll(/(?:-c\s*|--)([\w.]+)=((?:\\ |\S)+)/g)].map((m) => [m[1] ?? "", (m[2] ?? "").replace(/\\ /g, " ")]);
}

export function simpleQuery(sql: string): Buffer {
  const body = Buffer.from(`${sql}\0`);
  return Buffer.concat([Buffer.from("Q"), int32(body.length + 4), body]);
}

/** DataRow values of a backend reply; throws on an ErrorResponse. */
export function dataRows(reply: Buffer, sql: string): Array<Array<string | null>> {
  const rows: Array<Array<string | null>> = [];
  for (let at = 0; at < reply.length; at += 1 + reply.readInt32BE(at + 1)) {
    const type = String.fromCharCode(reply[at] ?? 0);
    if (type === "E") throw new Error(`PGlite query "${sql}" failed: ${reply.toString("utf8", at + 5, at + 1 + reply.readInt32BE(at + 1))}`);
    if (type !== "D") continue;
    const row: Array<string | null> = [];
    for (let i = 0, p = at + 7; i < reply.readInt16BE(at + 5); i++) {
      const size = reply.readInt32BE(p);
      row.push(size < 0 ? null : reply.toString("utf8", p + 4, p + 4 + size));
      p += 4 + Math.max(size, 0);
    }
    rows.push(row);
  }
  return rows;
}

/** ErrorResponse with SQLSTATE, message and hint. */
export function errorResponse(code: string, message: string, hint: string): Buffer {
  const fields = Buffer.from(`SERROR\0VERROR\0C${code}\0M${message}\0H${hint}\0\0`);
  return Buffer.concat([Buffer.from("E"), int32(fields.length + 4), fields]);
}

/** ReadyForQuery, idle (not in a transaction). */
export function readyForQuery(): Buffer {
  return Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
}

export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
