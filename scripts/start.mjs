#!/usr/bin/env node
// `npm start [-- wrangler dev flags]`: builds the web client (dist/web), applies the
// local D1 migrations, then runs
// `wrangler dev` with local storage and dev auth switched on (admin dev tokens too: DEV_AUTH_ADMIN). No secret lives in the
// repository: the dev ones are generated into the local state directory.
import { spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const wrangler = process.platform === "win32" ? "wrangler.cmd" : "wrangler";
const passthrough = process.argv.slice(2);
// Flags that pick the local state directory must reach the migration step too.
const persistAt = passthrough.indexOf("--persist-to");
const persist = persistAt >= 0 ? ["--persist-to", passthrough[persistAt + 1]] : [];

const web = spawnSync(process.execPath, [new URL("./build-web.mjs", import.meta.url).pathname], { stdio: ["ignore", "inherit", "inherit"] });
if (web.status !== 0) process.exit(web.status ?? 1);

const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", ...persist], {
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...env, CI: "true" },
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

// Dev secrets (the token signing secret, a VAPID key pair for Web Push) are made once per
// local state directory and kept there, so a restart on the same state keeps every
// session and push subscription. They reach wrangler through --env-file, never the
// command line (which `ps` shows). The environment's AUTH_SECRET / VAPID_* win for a run.
const stateDir = resolve(persist[1] ?? ".wrangler/state");
mkdirSync(stateDir, { recursive: true });
const secretsFile = join(stateDir, "edge-chat-dev.env");
const stored = existsSync(secretsFile) ? parseEnv(readFileSync(secretsFile, "utf8")) : {};
if (!stored.AUTH_SECRET || !stored.VAPID_PUBLIC_KEY || !stored.VAPID_PRIVATE_KEY) {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  stored.AUTH_SECRET ||= randomBytes(32).toString("base64url");
  stored.VAPID_PUBLIC_KEY = publicKey.export({ format: "der", type: "spki" }).subarray(-65).toString("base64url");
  stored.VAPID_PRIVATE_KEY = privateKey.export({ format: "jwk" }).d;
  writeEnvFile(secretsFile, stored);
}
const envFiles = [secretsFile];
const overrides = Object.fromEntries(
  ["AUTH_SECRET", "VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY", "VAPID_SUBJECT"].filter((k) => process.env[k]).map((k) => [k, process.env[k]]),
);
overrides.VAPID_SUBJECT ??= stored.VAPID_SUBJECT || "mailto:dev@localhost";
const overrideFile = join(stateDir, "edge-chat-dev.run.env");
writeEnvFile(overrideFile, overrides);
envFiles.push(overrideFile);
// --env-file replaces wrangler's own .dev.vars lookup: keep a developer's .dev.vars, last so it wins.
if (existsSync(".dev.vars")) envFiles.push(resolve(".dev.vars"));

const dev = spawn(
  wrangler,
  ["dev", ...envFiles.flatMap((f) => ["--env-file", f]), "--var", "DEV_AUTH:true", "--var", "DEV_AUTH_ADMIN:true", "--var", "ALLOWED_ORIGINS:*", ...passthrough],
  { stdio: "inherit", env },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

function parseEnv(text) {
  const out = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

function writeEnvFile(path, values) {
  writeFileSync(path, Object.entries(values).map(([k, v]) => `${k}=${v}\n`).join(""), { mode: 0o600 });
}
