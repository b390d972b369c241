/**
 * CORS for the read-only status routes: the configured origins (SENTINEL_CORS_ORIGIN, e.g. the portal)
 * may read them from a browser. Admin routes send no CORS headers: no browser page calls them.
 */
export function corsHeaders(req: Request, origins: string[], methods: readonly string[]): Record<string, string> {
  if (origins.length === 0) return {};
  const origin = req.headers.get("origin");
  // Answers differ by Origin, so caches (the browser's and Netlify's CDN) must key on it.
  const headers: Record<string, string> = { vary: "Origin", "netlify-vary": "header=Origin" };
  if (origin && origins.includes(origin)) {
    headers["access-control-allow-origin"] = origin;
    headers["access-control-allow-methods"] = [...methods, "OPTIONS"].join(", ");
    headers["access-control-allow-headers"] = "Authorization";
    headers["access-control-max-age"] = "600";
  }
  return headers;
}

/** Cache headers of the status routes: short, shared by the CDN only when the status is public. */
export function statusCacheHeaders(publicStatus: boolean, maxAgeSeconds = 15): Record<string, string> {
  if (!publicStatus) return { "cache-control": `private, max-age=${maxAgeSeconds}`, vary: "Authorization, Origin" };
  return {
    "cache-control": `public, max-age=${maxAgeSeconds}`,
    // Netlify caches function answers only when asked; a burst of page views then costs one invocation.
    "netlify-cdn-cache-control": `public, durable, max-age=${maxAgeSeconds}, stale-while-revalidate=${maxAgeSeconds * 2}`,
  };
}
