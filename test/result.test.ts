import { describe, expect, it } from "vitest";
import { check, EVIDENCE_CAP, exitCodeFor, worstStatus } from "../shared/result.ts";
import { createRedactor, redactDeep, safeUrl } from "../shared/redact.ts";

describe("result documents", () => {
  it.each([
    ["all pass", ["pass", "pass"], "pass"],
    ["warn beats pass", ["pass", "warn"], "warn"],
    ["blind beats degraded", ["warn", "error"], "error"],
    ["a measured failure beats blindness", ["error", "fail", "warn"], "fail"],
    ["nothing measured is a pass", [], "pass"],
  ] as const)("worstStatus: %s", (_n, statuses, expected) => {
    expect(worstStatus(statuses)).toBe(expected);
  });

  it("caps evidence and remembers the total", () => {
    const c = check({ name: "x", status: "fail", observed: 25, threshold: 0, message: "m", evidence: Array.from({ length: 25 }, (_, i) => `job-${i}`) });
    expect(c.evidence).toHaveLength(EVIDENCE_CAP);
    expect(c.evidenceTotal).toBe(25);
  });

  it.each([["pass", 0], ["warn", 0], ["fail", 1], ["error", 2]] as const)("exit code for %s is %i", (status, code) => {
    expect(exitCodeFor(status)).toBe(code);
  });
});

describe("redaction", () => {
  it("removes every secret, raw and URL-encoded, deep inside documents", () => {
    const redact = createRedactor(["tok/en+secret", "other-secret"]);
    const doc = { a: "x tok/en+secret y", b: [`https://h/?t=${encodeURIComponent("tok/en+secret")}`], c: { d: "other-secret" } };
    expect(JSON.stringify(redactDeep(doc, redact))).not.toMatch(/secret/);
  });

  it("strips credentials and query strings from URLs shown as evidence", () => {
    expect(safeUrl("https://user:pw@host.example.org/health?token=abc")).toBe("https://host.example.org/health?…");
  });
});
