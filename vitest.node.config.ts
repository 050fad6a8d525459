import { defineConfig } from "vitest/config";

// Fast unit tests in plain Node, no workerd: the SDK against a fake WebSocket and fetch
// (test/client, under fake timers) and pure helpers (test/unit). The files share one
// module graph in worker threads (isolate: false), which keeps the set near a second
// even on a loaded machine; so a test leaves nothing global behind (timers and spies
// are restored after each test) and does not vi.mock modules.
export default defineConfig({
  test: {
    include: ["test/client/**/*.test.ts", "test/unit/**/*.test.ts"],
    environment: "node",
    pool: "threads",
    isolate: false,
    restoreMocks: true,
    testTimeout: 5_000,
  },
});
