import { z } from "zod";

/** Beacon's `/health` body (internal/api/handlers_health.go). 200 for healthy/degraded, 503 for unhealthy. */
export const HealthBody = z.object({
  status: z.enum(["healthy", "degraded", "unhealthy"]),
  services: z
    .array(z.object({ name: z.string(), status: z.string(), error: z.string().optional() }).loose())
    .nullable()
    .optional(),
});
export type HealthBody = z.infer<typeof HealthBody>;

/** Beacon's `/health/ready` body: 503 when the database or Redis is unhealthy (or the DB ping fails). */
export const ReadyBody = z.object({
  ready: z.boolean(),
  services: z.array(z.object({ name: z.string(), status: z.string() }).loose()).nullable().optional(),
});
export type ReadyBody = z.infer<typeof ReadyBody>;

/**
 * Any other health endpoint (portal, hybrid router): JSON with a `status` word, or any 2xx. The router
 * answers `{status, providers_total, providers_healthy, regions}`.
 */
export const GenericHealthBody = z
  .object({
    status: z.string().optional(),
    providers_total: z.number().optional(),
    providers_healthy: z.number().optional(),
  })
  .loose();
