import type { BeaconSettings } from "./settings.ts";

/**
 * The requests the sentinel itself makes to Beacon (the receipts probe's reads, the health probe's
 * runner-db read, the canary's submit and polls), counted per route the way Beacon labels
 * `http_requests_total`: {path (the route template), method, status}. Beacon's metric has no caller
 * label, so the traffic probe subtracts these counts from its deltas (README: "SLIs that measure users").
 *
 * One ledger per process, kept per runner (the origin of BEACON_API_URL, which the portal's `/api`
 * proxies to), so two sentinels in one process (tests) never take each other's: a probe run records into
 * it, the traffic probe takes what was recorded up to its scrape, and the tick carries what was recorded
 * after the scrape in the traffic probe's state.
 */

/** `<method> <path> <status>`, e.g. `GET /api/v1/jobs/:id 200`. */
export type OwnRequestKey = string;

const ledgers = new Map<string, Map<OwnRequestKey, number>>();

export function ownRequestKey(method: string, path: string, status: number | string): OwnRequestKey {
  return `${method.toUpperCase()} ${path} ${status}`;
}

export function parseOwnRequestKey(key: OwnRequestKey): { method: string; path: string; status: string } | undefined {
  const m = /^(\S+) (.*) (\S+)$/.exec(key);
  return m ? { method: m[1]!, path: m[2]!, status: m[3]! } : undefined;
}

/** The ledger a runner's requests go to: the origin of its URL (`http://host:port`). */
export function runnerOf(apiUrl: string): string {
  return new URL(apiUrl).origin;
}

export function recordOwnRequest(runner: string, method: string, path: string, status: number): void {
  const ledger = ledgers.get(runner) ?? new Map<OwnRequestKey, number>();
  ledgers.set(runner, ledger);
  const key = ownRequestKey(method, path, status);
  ledger.set(key, (ledger.get(key) ?? 0) + 1);
}

/** Everything recorded for this runner since the last take, and its ledger emptied. */
export function takeOwnRequests(runner: string): Record<OwnRequestKey, number> {
  const taken = Object.fromEntries(ledgers.get(runner) ?? []);
  ledgers.delete(runner);
  return taken;
}

/** Adds counts together (the carried ones and the ones taken now). */
export function addOwnRequests(...all: (Record<OwnRequestKey, number> | undefined)[]): Record<OwnRequestKey, number> {
  const sum: Record<OwnRequestKey, number> = {};
  for (const counts of all) for (const [k, n] of Object.entries(counts ?? {})) sum[k] = (sum[k] ?? 0) + n;
  return sum;
}

/**
 * The `path` label Beacon gives a request: gin's route template (`/api/v1/jobs/:id`), static routes
 * before parameters (`/api/v1/jobs/cross-region` is its own route), and the raw path when no route
 * matches (a 404), as the sandbox labels it.
 */
export function routeTemplate(pathname: string, routes: BeaconSettings["routes"]): string {
  const statics = new Set<string>(Object.values(routes));
  if (statics.has(pathname)) return pathname;
  const templates = [`${routes.jobs}/:id`, `${routes.jobs}/:id/executions/all`, `${routes.executions}/:id/details`, `${routes.executions}/:id/receipt`];
  const got = pathname.split("/");
  for (const template of templates) {
    const want = template.split("/");
    if (want.length === got.length && want.every((w, i) => (w.startsWith(":") ? got[i] !== "" : w === got[i]))) return template;
  }
  return pathname;
}

/**
 * `fetch` that records every answered request to Beacon's runner: to `apiUrl`'s origin, or under
 * `/api/` of the portal's (which proxies `/api/*` to the runner). A request that got no answer
 * (timeout, refused) is not recorded: whether Beacon counted it is unknown.
 */
export function countingFetch(inner: typeof fetch, o: { apiUrl?: string; portalUrl?: string; routes: BeaconSettings["routes"] }): typeof fetch {
  const origin = (url?: string) => {
    try {
      return url ? new URL(url).origin : undefined;
    } catch {
      return undefined;
    }
  };
  const api = origin(o.apiUrl);
  const portal = origin(o.portalUrl);
  const runner = api ?? portal;
  if (!runner) return inner;
  return async (input, init) => {
    const response = await inner(input, init);
    try {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const method = init?.method ?? (input instanceof Request ? input.method : "GET");
      if (url.origin === api || (url.origin === portal && url.pathname.startsWith("/api/"))) {
        recordOwnRequest(runner, method, routeTemplate(url.pathname, o.routes), response.status);
      }
    } catch {
      // not a URL we can read: not Beacon's
    }
    return response;
  };
}
