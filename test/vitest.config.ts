import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Kept in test/ because the project's top level is fixed; `npm test` passes --config.
export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    // Starts (or finds) Postgres and Redis once per run and prints which engines are in use.
    globalSetup: ["test/support/global-setup.ts"],
    // Integration tests talk to real servers over the network; the embedded fallbacks are slower.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
