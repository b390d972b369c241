import { createKeys, type Keys } from "../../shared/store/keys.ts";
import { sharedRuntime, configFailure } from "../platform.ts";
import type { Runtime } from "../runtime.ts";
import { authorize, type Access, type Caller } from "./auth.ts";
import { corsHeaders } from "./cors.ts";
import { HttpError } from "./errors.ts";
import { AUTH_FAILURE_LIMIT, consumeRateLimit, recordAuthFailure, refuseIfLockedOut, type RateLimit } from "./rate-limit.ts";
import { errorResponse, finalize } from "./respond.ts";

/** What a route handler gets: the request, its parsed URL, the runtime, and who is calling. */
export interface RouteContext {
  req: Request;
  url: URL;
  rt: Runtime;
  caller: Caller;
  /** Who the limiters count: the client IP the platform vouches for (see clientIdentity). */
  ip: string;
}

export interface Route {
  /** For logs. */
  name: string;
  methods: readonly string[];
  access: Access;
  /** Browsers from SENTINEL_CORS_ORIGIN may call it. */
  cors?: boolean;
  /** Counted per caller (clientIdentity) before anything else is done for an authorised caller. */
  rateLimit?: RateLimit;
  handle(ctx: RouteContext): Promise<Response>;
  /**
   * Re-renders an error answer in the route's own format (the badge speaks shields.io's), keeping its
   * status and headers. Without it, errors are the JSON `{error, message}` of errorResponse.
   */
  formatError?(status: number, error: { code: string; message: string }): Response;
}

/** The part of Netlify's Context a route uses; tests pass `{ ip }` or nothing. */
export interface PlatformContext {
  /** The client IP as the platform determined it: Netlify's edge (or @netlify/dev, from the socket). */
  ip?: string;
}

/**
 * Whom the limiters count. Only the platform's `context.ip` is trusted: on Netlify it comes from the
 * edge, which sets `x-nf-client-connection-ip` itself; @netlify/dev takes it from the socket. A request
 * header is never read: off Netlify anyone can send `x-nf-client-connection-ip`, and a new value per
 * request would mint a fresh allowance each time. Without a platform IP (the handler called by some
 * other adapter) every caller shares ONE allowance: the limit holds, at the price of callers on such a
 * deployment sharing it.
 */
export function clientIdentity(context?: PlatformContext): string {
  const ip = context?.ip?.trim();
  return ip ? ip : "no-platform-ip";
}

/**
 * Turns a route into a Netlify function: runtime once per cold start, preflight, method, auth, rate
 * limit, then the handler; every error becomes a response in errorResponse, and every answer leaves
 * through `finalize` (redaction, security headers, CORS).
 *
 * Order: a caller locked out for wrong tokens is refused first (429, before its token is even
 * compared); then auth, where a wrong token counts against the caller (AUTH_FAILURE_LIMIT); then the
 * route's own limit, which counts authorised requests only. Costs one store round trip on every
 * token-guarded request (the lockout read) and one more per wrong token.
 */
export function httpFunction(route: Route, runtime: () => Runtime = sharedRuntime) {
  return async (req: Request, context?: PlatformContext): Promise<Response> => {
    let rt: Runtime;
    try {
      rt = runtime();
    } catch (error) {
      return route.formatError ? reformat(configFailure(error), route.formatError) : configFailure(error);
    }
    const cors = route.cors ? corsHeaders(req, rt.config.corsOrigins, route.methods) : {};
    let response: Response;
    try {
      if (req.method === "OPTIONS" && route.cors) {
        response = new Response(null, { status: 204 });
      } else {
        if (!route.methods.includes(req.method)) {
          throw new HttpError(405, "method_not_allowed", `use ${route.methods.join(" or ")}`, {}, { allow: route.methods.join(", ") });
        }
        const ip = clientIdentity(context);
        const guarded = route.access === "admin" || !rt.config.publicStatus;
        if (guarded && (rt.config.adminToken || rt.config.statusToken)) await refuseIfLockedOut(storeRedis(rt), storeKeys(rt), AUTH_FAILURE_LIMIT, ip);
        let caller: Caller;
        try {
          caller = authorize(req, rt.config, route.access);
        } catch (error) {
          if (error instanceof HttpError && error.status === 403) await recordAuthFailure(storeRedis(rt), storeKeys(rt), AUTH_FAILURE_LIMIT, ip);
          throw error;
        }
        if (route.rateLimit) await consumeRateLimit(storeRedis(rt), storeKeys(rt), route.rateLimit, ip);
        response = await route.handle({ req, url: new URL(req.url), rt, caller, ip });
      }
    } catch (error) {
      response = errorResponse(error, rt.log, route.name);
      if (route.formatError) response = await reformat(response, route.formatError);
    }
    return finalize(response, rt.redact, cors);
  };
}

async function reformat(response: Response, format: NonNullable<Route["formatError"]>): Promise<Response> {
  const body = (await response.json().catch(() => ({}))) as { error?: unknown; message?: unknown };
  const formatted = format(response.status, { code: String(body.error ?? "error"), message: String(body.message ?? "") });
  const headers = new Headers(response.headers);
  formatted.headers.forEach((value, key) => headers.set(key, value));
  return new Response(formatted.body, { status: formatted.status, headers });
}

/** The sentinel's store; the configuration requires it, so its absence is a deployment error. */
export function storeRedis(rt: Runtime) {
  if (!rt.storeRedis) throw new HttpError(503, "store_not_configured", "the sentinel's store is not configured (SENTINEL_REDIS_REST_URL)");
  return rt.storeRedis;
}

export function storeKeys(rt: Runtime): Keys {
  return createKeys(rt.config.store?.keyPrefix ?? "sentinel:");
}
