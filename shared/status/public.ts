import type { ProbeResult } from "../result.ts";
import { StatusDocument, type FiringAlert, type ProbeStatus, type StageStatus } from "./schema.ts";
import { contributions, stageMessage } from "./document.ts";

/**
 * The status document for the public (SENTINEL_PUBLIC_STATUS=summary): the same shape, so the page,
 * badge and metrics render it unchanged, with every piece of free text a probe or an operator wrote
 * taken out. Check messages and evidence name internal hosts, URLs, the database and its name, queue
 * keys and job ids; a probe's error repeats what a driver said; silence comments and authors are
 * internal. What stays: states, check and probe names, numbers, timings, SLOs, and the sentences the
 * sentinel itself composes from those (the overall message, stage notes rebuilt from states).
 *
 * Pure. A free-text field added to the document later passes through unless it is handled here:
 * test/status-public.test.ts fills every free-text field with a marker and asserts none survives.
 */
export function summaryView(doc: StatusDocument): StatusDocument {
  const probes = doc.probes.map(summaryProbe);
  return StatusDocument.parse({
    ...doc,
    stages: doc.stages.map((stage) => summaryStage(stage, probes)),
    probes,
    alerts: {
      firing: doc.alerts.firing.map(summaryAlert),
      silences: doc.alerts.silences.map((s) => ({ ...s, comment: "", createdBy: "operator" })),
    },
    // A cause is text Beacon wrote (failure codes, stages): counts and states stay, the words go.
    ...(doc.regions ? { regions: { ...doc.regions, cells: doc.regions.cells.map((c) => ({ ...c, dominantCause: null })) } } : {}),
  });
}

const WORD: Record<string, string> = { pass: "passing", warn: "degraded", fail: "failing", error: "blind", unknown: "unknown" };

/** A number is a measurement; a string may be anything a target answered. */
const scalar = (v: string | number | boolean | null) => (typeof v === "string" ? null : v);

function summaryResult(result: ProbeResult): ProbeResult {
  return {
    ...result,
    checks: result.checks.map((c) => ({
      ...c, observed: scalar(c.observed), threshold: scalar(c.threshold), message: WORD[c.status] ?? c.status, evidence: [],
    })),
    ...(result.error === undefined ? {} : { error: "the probe could not measure (details are not public)" }),
  };
}

function summaryProbe(p: ProbeStatus): ProbeStatus {
  return { ...p, latest: p.latest ? summaryResult(p.latest) : null };
}

function summaryStage(stage: StageStatus, probes: ProbeStatus[]): StageStatus {
  // The same attribution as the full document, with notes that name no host: a probe's own error stays private.
  const mine = probes.flatMap((p) => contributions(p, publicNote).get(stage.id) ?? []);
  if (mine.length === 0) return stage;
  return { ...stage, message: stageMessage(mine) };
}

function publicNote(p: ProbeStatus): string {
  if (!p.latest) return "no result yet";
  if (p.stale) return "no recent result";
  if (p.latest.error) return "could not measure";
  return WORD[p.state] ?? p.state;
}

function summaryAlert(a: FiringAlert): FiringAlert {
  const { nextStep: _hidden, ...rest } = a;
  return {
    ...rest, message: `${a.severity}: ${a.title}`, observed: scalar(a.observed), threshold: scalar(a.threshold), evidence: [],
  };
}
