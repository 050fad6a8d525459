import { defineConfig } from "vitest/config";

// Browser tests: Debian's chromium (CHROMIUM_PATH, default /usr/bin/chromium) driven by
// playwright-core against a real `npm start`. Files run one after another: each starts
// its own server and browser.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
