import { defineConfig } from "vitest/config";

// Fast unit tests in plain Node, no workerd: the SDK against a fake WebSocket and fetch
// (test/client, under fake timers) and pure helpers (test/unit). The whole set runs in seconds.
export default defineConfig({
  test: {
    include: ["test/client/**/*.test.ts", "test/unit/**/*.test.ts"],
    environment: "node",
    testTimeout: 5_000,
  },
});
