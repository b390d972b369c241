import type { State, StatusDocument } from "./schema.ts";

/** shields.io's endpoint badge format (https://shields.io/badges/endpoint-badge). */
export interface ShieldsBadge {
  schemaVersion: 1;
  label: string;
  message: string;
  color: string;
  /** How long shields.io may cache the badge; it enforces at least 300 s. */
  cacheSeconds?: number;
  /** Marks a badge that reports a failure to answer, not the pipeline's state. */
  isError?: boolean;
}

const LOOK: Record<State, { message: string; color: string }> = {
  pass: { message: "operational", color: "brightgreen" },
  warn: { message: "degraded", color: "yellow" },
  fail: { message: "failing", color: "red" },
  error: { message: "blind", color: "orange" },
  unknown: { message: "unknown", color: "lightgrey" },
};

/** The pipeline's overall state as a badge: a word as well as a colour, so it reads without colour. */
export function shieldsBadge(doc: StatusDocument, label = "beacon pipeline"): ShieldsBadge {
  const look = LOOK[doc.overall.state];
  return { schemaVersion: 1, label, message: look.message, color: look.color, cacheSeconds: 300 };
}

/**
 * A request the badge route could not serve (unauthorised, store unreachable...), still as a badge:
 * shields.io's schema takes no other keys, so the error code becomes the message, in words.
 */
export function shieldsErrorBadge(error: { code: string }, label = "beacon pipeline"): ShieldsBadge {
  const words = error.code.replace(/[_-]+/g, " ").trim().slice(0, 40) || "error";
  return { schemaVersion: 1, label, message: words, color: "lightgrey", isError: true };
}
