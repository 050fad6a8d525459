import { defineConfig } from "vitest/config";

// Plain-Node unit tests (no workerd): the SDK against fakes, and pure helpers.
export default defineConfig({ test: { include: ["test/client/**/*.test.ts", "test/unit/**/*.test.ts"], environment: "node" } });
