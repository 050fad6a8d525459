#!/usr/bin/env node
/**
 * node scripts/check-bundle-size.mjs [dir] [--limit-mib N]
 *
 * The Worker's size limit applies to the uploaded bundle after compression
 * (3 MiB on the Workers Free plan, 10 MiB on Paid). This gzips every module
 * `wrangler deploy --dry-run --outdir <dir>` wrote (source maps are not part
 * of the limit), prints the sizes, and fails above the limit (default 3 MiB,
 * the stricter one, so the Worker deploys on either plan).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

const args = process.argv.slice(2);
const limitAt = args.indexOf("--limit-mib");
const limitMib = limitAt >= 0 ? Number(args[limitAt + 1]) : 3;
const dir = args.find((a, i) => !a.startsWith("--") && i !== limitAt + 1) ?? "dist/worker";

function files(path) {
  return statSync(path).isDirectory() ? readdirSync(path).flatMap((name) => files(join(path, name))) : [path];
}

const modules = files(dir).filter((f) => !f.endsWith(".map") && !f.endsWith("README.md"));
if (modules.length === 0) {
  console.error(`no bundle in ${dir}: run \`npx wrangler deploy --dry-run --outdir ${dir}\` first`);
  process.exit(2);
}
let raw = 0;
let gzipped = 0;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
for (const file of modules) {
  const bytes = readFileSync(file);
  const gz = gzipSync(bytes, { level: 9 }).length;
  raw += bytes.length;
  gzipped += gz;
  console.log(`  ${relative(dir, file).padEnd(40)} ${kib(bytes.length).padStart(12)} ${kib(gz).padStart(12)} gzip`);
}
const limit = limitMib * 1024 * 1024;
console.log(`Worker bundle: ${kib(raw)}, ${kib(gzipped)} gzip (limit ${limitMib} MiB gzip, ${((gzipped / limit) * 100).toFixed(1)}% used)`);
if (gzipped > limit) {
  console.error(`The bundle is over the ${limitMib} MiB limit.`);
  process.exit(1);
}
