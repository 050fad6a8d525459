#!/usr/bin/env node
// `npm start [-- wrangler dev flags]`: builds the web client (dist/web), applies the
// local D1 migrations, then runs
// `wrangler dev` with local storage and dev auth switched on. The dev signing
// secret is made fresh for each run, so no secret lives in the repository.
import { spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";

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

const secret = process.env.AUTH_SECRET || randomBytes(32).toString("base64url");

// Web Push needs a VAPID key pair. Use VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY from the
// environment if set; otherwise make a fresh dev pair (never stored, never committed).
let vapidPublic = process.env.VAPID_PUBLIC_KEY;
let vapidPrivate = process.env.VAPID_PRIVATE_KEY;
if (!vapidPublic || !vapidPrivate) {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const jwk = privateKey.export({ format: "jwk" });
  vapidPublic = publicKey.export({ format: "der", type: "spki" }).subarray(-65).toString("base64url");
  vapidPrivate = jwk.d;
}
const vapidSubject = process.env.VAPID_SUBJECT || "mailto:dev@localhost";
const dev = spawn(
  wrangler,
  ["dev", "--var", "DEV_AUTH:true", "--var", `AUTH_SECRET:${secret}`, "--var", "ALLOWED_ORIGINS:*",
   "--var", `VAPID_PUBLIC_KEY:${vapidPublic}`, "--var", `VAPID_PRIVATE_KEY:${vapidPrivate}`, "--var", `VAPID_SUBJECT:${vapidSubject}`, ...passthrough],
  { stdio: "inherit", env },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
