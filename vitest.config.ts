import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Integration tests run inside workerd with the real Worker, room objects, D1 (migrations
// applied in test/setup.ts) and SQLite. End-to-end tests (test/e2e) drive `wrangler dev`
// from Node instead; test/browser drives chromium against `npm start` (vitest.browser.config.ts).
export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            AUTH_SECRET: "test-only-secret-with-enough-length-0123456789",
            DEV_AUTH: "true",
            // Tests mint admin dev tokens (stats, audit, erasure); dev-token.test.ts checks the refusal without it.
            DEV_AUTH_ADMIN: "true",
            ALLOWED_ORIGINS: "https://chat.example",
            // Small enough that tests can cross them with a few hundred messages.
            REPLAY_CAP: "100",
            SLOW_CONSUMER_LAG: "300",
            // Tests send hundreds of messages quickly; rate-limit tests lower these per room.
            SEND_RATE_PER_SECOND: "10000",
            SEND_BURST: "10000",
            // Likewise across rooms and for sockets per user; abuse tests lower them on one user's UserLimits.
            USER_SEND_PER_MINUTE: "1000000",
            MAX_CONNECTIONS_PER_USER: "1000",
            // Every other budget likewise (src/room/budgets.ts, src/http/budgets.ts); budget tests lower them
            // on one room's instance or one user's UserLimits.
            USER_MUTATIONS_PER_MINUTE: "1000000",
            USER_READS_PER_MINUTE: "1000000",
            ROOM_MUTATIONS_PER_MINUTE: "1000000",
            ROOM_READS_PER_MINUTE: "1000000",
            ROOM_SIGNALS_PER_MINUTE: "1000000",
            // Fuzz tests send thousands of frames on one socket; flood tests use the defaults.
            FRAMES_PER_SECOND: "100000",
            FRAME_BURST: "100000",
            // How much the fuzzers do (test/fuzz/runs.ts): unset under npm test.
            FUZZ_RUNS: process.env.FUZZ_RUNS ?? "",
            // Media: R2 needs parts of at least 5 MiB (all but the last), so the part size stays
            // at its default; the file and quota limits are small so tests cross them cheaply.
            MEDIA_MAX_BYTES: String(12 * 1024 * 1024),
            MEDIA_QUOTA_BYTES_PER_HOUR: String(16 * 1024 * 1024),
            // Info lines (connect, close...) logged as a test file's sockets close would race
            // the runner's teardown; test/ops/logs.test.ts turns them on for itself.
            LOG_LEVEL: "warn",
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      // test/client and test/unit run in plain Node (vitest.node.config.ts).
      exclude: ["test/e2e/**", "test/browser/**", "test/client/**", "test/unit/**", "node_modules/**"],
      setupFiles: ["./test/setup.ts"],
      testTimeout: 20_000,
    },
  };
});
