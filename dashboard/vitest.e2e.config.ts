import { defineConfig } from "vitest/config";

// End-to-end against the real stack (make dev): see e2e/stack.e2e.test.ts.
export default defineConfig({
  test: {
    include: ["e2e/stack.e2e.test.ts"],
    environment: "node",
    testTimeout: 15 * 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
