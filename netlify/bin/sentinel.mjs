#!/usr/bin/env node
// The `sentinel` command. The CLI is TypeScript; tsx's loader lets it run as-is,
// without a build step, from a clone or from `npx sentinel`.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
