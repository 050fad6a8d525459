#!/usr/bin/env node
// `npm run build:web`: bundles the browser app (src/web) into dist/web, which the
// Worker serves as static assets (wrangler.toml [assets]). esbuild compiles the
// TypeScript and the SDK it imports into one ES module, so the protocol exists
// once, in src/protocol, for the server, the SDK and the app.
//
// dist/web/_headers gives every asset the security headers (scripts/web-headers.mjs:
// a strict CSP with no inline script): assets are served without running the Worker.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CONTENT_SECURITY_POLICY, headersFile } from "./web-headers.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "web");

export { CONTENT_SECURITY_POLICY };

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: { app: join(root, "src/web/main.ts"), style: join(root, "src/web/style.css") },
  outdir: out,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
});

copyFileSync(join(root, "src/web/index.html"), join(out, "index.html"));

writeFileSync(join(out, "_headers"), headersFile());

console.log(`web app built into ${out}`);
