import { defineConfig } from "vitest/config";

// Rendering and accessibility check in a real Chromium with the API stubbed
// by page.route — see e2e/visual.test.ts. Not the end-to-end proof.
export default defineConfig({
  test: {
    include: ["e2e/visual.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
