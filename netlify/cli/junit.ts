import type { Check, ProbeResult } from "../../shared/result.ts";
import { checkTimings } from "../../shared/runner.ts";

/**
 * Results as a JUnit XML report, the format every CI understands: one <testsuite> per probe, one
 * <testcase> per check. A `fail` check is a <failure> (the pipeline is broken), an `error` check an
 * <error> (the probe could not measure), each with its message as the attribute and the observed
 * value, threshold and evidence as the text; a `warn` passes, with its message in <system-out>. A probe
 * that crashed before any check is one <error> testcase named after the probe.
 *
 * Times are measured, in seconds: a suite's is its probe's run; a case's is how far into that run the
 * check was decided (checks measured in parallel, like health's endpoints, each have their own; checks
 * judged together from one set of reads share theirs); the report's is the wall time from the first
 * probe's start to the last one's end (probes run concurrently, so it is not the suites' sum). A result
 * this process did not measure has no per-check times: its cases carry the probe's run.
 */
export function junitReport(results: ProbeResult[], options: { name?: string; skipped?: readonly { probe: string; reason: string }[] } = {}): string {
  const suites = [...results.map(suite), ...(options.skipped ?? []).map(skippedSuite)];
  const total = (k: "tests" | "failures" | "errors") => suites.reduce((n, s) => n + s[k], 0);
  const starts = results.map((r) => Date.parse(r.startedAt));
  const time = seconds(results.length ? Math.max(...results.map((r, i) => starts[i]! + r.durationMs)) - Math.min(...starts) : 0);
  const head = `<testsuites name="${attr(options.name ?? "beacon-sentinel")}" tests="${total("tests")}" failures="${total("failures")}" errors="${total("errors")}" time="${time}">`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', head, ...suites.map((s) => s.xml), "</testsuites>", ""].join("\n");
}

interface Suite { xml: string; tests: number; failures: number; errors: number }

function suite(r: ProbeResult): Suite {
  const times = checkTimings(r);
  const cases = r.checks.length ? r.checks.map((c, i) => testcase(r.probe, c, times?.[i] ?? r.durationMs)) : [crashed(r)];
  const failures = r.checks.filter((c) => c.status === "fail").length;
  const errors = r.checks.length ? r.checks.filter((c) => c.status === "error").length : 1;
  const head = `  <testsuite name="${attr(r.probe)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="0" time="${seconds(r.durationMs)}" timestamp="${attr(r.startedAt.replace(/Z$/, ""))}">`;
  return { xml: [head, ...cases, "  </testsuite>"].join("\n"), tests: cases.length, failures, errors };
}

/** A probe not run (a dry run skips what needs the store): one <skipped> testcase with the reason. */
function skippedSuite(s: { probe: string; reason: string }): Suite {
  const xml = [
    `  <testsuite name="${attr(s.probe)}" tests="1" failures="0" errors="0" skipped="1" time="0.000">`,
    `    <testcase name="${attr(s.probe)}" classname="sentinel.${attr(s.probe)}" time="0">`, `      <skipped message="${attr(s.reason)}"/>`, "    </testcase>", "  </testsuite>",
  ].join("\n");
  return { xml, tests: 1, failures: 0, errors: 0 };
}

function testcase(probe: string, c: Check, ms: number): string {
  const open = `    <testcase name="${attr(c.name)}" classname="sentinel.${attr(probe)}" time="${seconds(ms)}">`;
  if (c.status === "pass") return `${open.slice(0, -1)}/>`;
  if (c.status === "warn") return [open, `      <system-out>${text(`warn: ${c.message}`)}</system-out>`, "    </testcase>"].join("\n");
  const element = c.status === "fail" ? "failure" : "error";
  const body = [
    `observed: ${String(c.observed)}`, `threshold: ${String(c.threshold)}`,
    ...(c.evidenceTotal ? [`evidence (${c.evidence.length} of ${c.evidenceTotal}):`, ...c.evidence.map((e) => `  - ${e}`)] : []),
  ].join("\n");
  return [open, `      <${element} message="${attr(c.message)}" type="${c.status}">${text(body)}</${element}>`, "    </testcase>"].join("\n");
}

function crashed(r: ProbeResult): string {
  const message = r.error ?? "the probe returned no checks";
  return [`    <testcase name="${attr(r.probe)}" classname="sentinel.${attr(r.probe)}" time="${seconds(r.durationMs)}">`, `      <error message="${attr(message)}" type="error">${text(message)}</error>`, "    </testcase>"].join("\n");
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** XML 1.0 cannot carry most control characters at all, escaped or not: they are replaced. */
function text(s: string): string {
  return s.replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "\uFFFD").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function attr(s: string): string {
  return text(s).replace(/"/g, "&quot;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;").replace(/\t/g, "&#9;");
}
