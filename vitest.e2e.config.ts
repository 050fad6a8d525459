import { defineConfig } from "vitest/config";

// End-to-end tests: real `npm start` (wrangler dev) processes driven from Node with `ws`.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
