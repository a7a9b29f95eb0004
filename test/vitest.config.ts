import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests spawn real processes (OCI runtimes, QEMU, protocol peers), so each file runs in its own
// forked process and the timeouts are generous; nothing here is a timing assertion.
export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    include: ["test/**/*.test.ts"],
    // A scratch TMPDIR per test file, removed afterwards (test/helpers/scratch-setup.ts).
    setupFiles: ["test/helpers/scratch-setup.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
