/**
 * Region names under the hybrid router's names, the way Beacon maps them (`worker/helpers.go`
 * mapRegionToRouter) and as configured in `beacon.regions`. Two readings:
 * - `asked`: a region as a JobSpec names it; an unknown code runs in `unknown` (eu-west), as the worker runs it;
 * - `stored`: `executions.region` as a row holds it: the worker's router name, or the portal path's raw
 *   code (`US`), mapped; anything else is kept as spelled (lower-cased), never invented.
 */
export interface RegionNames {
  /** A code as a JobSpec or the portal path spells it (any case) -> the router's name. */
  aliases: Record<string, string>;
  /** The router's own names. */
  names: string[];
  /** Where the worker runs a JobSpec region it does not know. */
  unknown: string;
}

export function routerRegion(region: string, names: RegionNames, reading: "asked" | "stored" = "asked"): string {
  const r = region.trim();
  const lower = r.toLowerCase();
  const known = names.names.find((n) => n.toLowerCase() === lower);
  if (known) return lower;
  const alias = Object.entries(names.aliases).find(([code]) => code.toUpperCase() === r.toUpperCase());
  if (alias) return alias[1];
  return reading === "asked" ? names.unknown : lower;
}

/**
 * The same mapping in SQL, for a text expression: the caller passes `params(names)` as the statement's
 * parameters at `first`, `first + 1`, `first + 2` (aliases as jsonb keyed by upper case, names, unknown).
 */
export function routerRegionSql(expr: string, first: number, reading: "asked" | "stored"): string {
  const [aliases, known, unknown] = [`$${first}::jsonb`, `$${first + 1}::text[]`, `$${first + 2}::text`];
  return `(CASE WHEN lower(btrim(${expr})) = ANY(${known}) THEN lower(btrim(${expr}))
    ELSE COALESCE(${aliases}->>upper(btrim(${expr})), ${reading === "asked" ? unknown : `lower(btrim(${expr}))`}) END)`;
}

/** The three parameters `routerRegionSql` reads. */
export function routerRegionParams(names: RegionNames): [string, string[], string] {
  const aliases = Object.fromEntries(Object.entries(names.aliases).map(([code, name]) => [code.toUpperCase(), name]));
  return [JSON.stringify(aliases), names.names.map((n) => n.toLowerCase()), names.unknown];
}
