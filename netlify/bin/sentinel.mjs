#!/usr/bin/env node
// The `beacon-sentinel` command (also installed as `sentinel`, an alias for now). The CLI is TypeScript; tsx's loader lets it run as-is,
// without a build step, from a clone or from `npx beacon-sentinel`.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
// The command has answered. A request a dependency never answers (a silent Redis, say) would keep
// the event loop, and so the process, alive for ever: give the loop a moment to drain on its own,
// then exit anyway. The timer is unref'd, so a process that drains exits at once without waiting.
setTimeout(() => process.exit(), 1_000).unref();
