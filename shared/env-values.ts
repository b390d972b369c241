import { z } from "zod";

/**
 * Schemas for environment values, shared by the configuration (shared/config/env.ts) and the parts
 * that declare their own variables (each channel's definition). An empty value counts as unset.
 */
export const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), schema.optional());

export const HttpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
