/**
 * Writes Beacon's contracts as JSON Schema files to shared/beacon/json-schema/ (run after changing a
 * schema in shared/beacon/): `npx tsx test/tools/export-schemas.ts`. Stale files there are removed.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { contractSchemaFiles } from "../../shared/beacon/json-schema.ts";

export const SCHEMA_DIR = fileURLToPath(new URL("../../shared/beacon/json-schema/", import.meta.url));

export function exportSchemas(dir = SCHEMA_DIR): string[] {
  const files = contractSchemaFiles();
  mkdirSync(dir, { recursive: true });
  for (const stale of readdirSync(dir).filter((f) => f.endsWith(".json") && !(f in files))) rmSync(`${dir}${stale}`);
  for (const [name, text] of Object.entries(files)) writeFileSync(`${dir}${name}`, text);
  return Object.keys(files);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const written = exportSchemas();
  console.log(`wrote ${written.length} JSON Schema files to ${SCHEMA_DIR}: ${written.join(", ")}`);
}
