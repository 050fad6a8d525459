#!/usr/bin/env node
/**
 * npm run deploy -- --env <staging|production> [wrangler deploy flags]
 *
 * Deploys only when the environment's D1 database has every migration in
 * migrations/ applied: a Worker whose queries expect a table the database
 * does not have yet fails on every request that touches it. So this asks
 * `wrangler d1 migrations list DB --remote --env <env>` first, and refuses
 * (printing the command that applies them) if any are unapplied. It also
 * refuses an environment whose database_id is still the placeholder, and any
 * configuration that switches dev auth on (DEV_AUTH lets anyone mint tokens).
 *
 * `--dry-run` builds the bundle without touching the account (no migration
 * check), as CI does. The web client is built first by npm's `predeploy`.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000";

const args = process.argv.slice(2);
let env = null;
const rest = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === "--env" || arg === "-e") env = args[++i] ?? null;
  else if (arg.startsWith("--env=")) env = arg.slice("--env=".length);
  else rest.push(arg);
}
const dryRun = rest.includes("--dry-run");

if (!env) {
  console.error("usage: npm run deploy -- --env <staging|production> [wrangler deploy flags]");
  console.error("The top level of wrangler.toml is the local configuration; deployments name an environment.");
  process.exit(2);
}

const toml = readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");
if (!toml.includes(`[env.${env}.`) && !toml.includes(`[[env.${env}.`)) {
  console.error(`wrangler.toml has no [env.${env}] environment.`);
  process.exit(2);
}

const devAuth = devAuthSetting(toml, env, rest);
if (devAuth) {
  console.error(`${devAuth} switches dev auth on: anyone could mint tokens, admin ones included. Remove it; not deploying.`);
  process.exit(1);
}

if (!dryRun) {
  const databaseId = databaseIdOf(toml, env);
  if (!databaseId || databaseId === PLACEHOLDER_ID) {
    console.error(`[env.${env}] still has the placeholder D1 database_id.`);
    console.error(`Create the database and put the id it prints into [[env.${env}.d1_databases]] in wrangler.toml:`);
    console.error(`  npx wrangler d1 create edge-chat-${env}`);
    process.exit(1);
  }

  console.log(`Checking that every D1 migration is applied to ${env} ...`);
  const list = wrangler(["d1", "migrations", "list", "DB", "--remote", "--env", env], { capture: true });
  const output = `${list.stdout ?? ""}\n${list.stderr ?? ""}`;
  if (list.status !== 0) {
    console.error(output.trim());
    console.error(`\nCould not list the remote migrations of ${env} (see above); not deploying.`);
    process.exit(1);
  }
  const pending = unappliedMigrations(output);
  if (pending === null) {
    console.error(output.trim());
    console.error("\nCould not read wrangler's answer (see above); not deploying.");
    process.exit(1);
  }
  if (pending.length > 0) {
    console.error(`${env} has ${pending.length} unapplied D1 migration(s):`);
    for (const name of pending) console.error(`  ${name}`);
    console.error(`\nApply them, then deploy again:\n  npx wrangler d1 migrations apply DB --remote --env ${env}`);
    process.exit(1);
  }
  console.log("All migrations are applied.");
}

const deploy = wrangler(["deploy", "--env", env, ...rest]);
process.exit(deploy.status ?? 1);

function wrangler(argv, { capture = false } = {}) {
  const result = spawnSync("npx", ["wrangler", ...argv], {
    stdio: capture ? ["inherit", "pipe", "pipe"] : "inherit",
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? "false" },
  });
  if (result.error) {
    console.error(String(result.error));
    process.exit(1);
  }
  return result;
}

/**
 * The unapplied migrations in `wrangler d1 migrations list` output: [] when it
 * says there are none, the file names from its table otherwise, null when the
 * output is neither.
 */
export function unappliedMigrations(output) {
  if (output.includes("No migrations to apply")) return [];
  if (!output.includes("Migrations to be applied")) return null;
  return [...new Set(output.match(/\b\d{4}_[\w.-]+\.sql\b/g) ?? [])];
}

/** The database_id of [[env.<env>.d1_databases]] binding DB, read from the file's text. */
function databaseIdOf(text, envName) {
  const header = `[[env.${envName}.d1_databases]]`;
  const start = text.indexOf(header);
  if (start < 0) return null;
  const block = text.slice(start + header.length).split(/\n\s*\[/)[0];
  return /database_id\s*=\s*"([^"]*)"/.exec(block)?.[1] ?? null;
}

/** Where the deployment would get DEV_AUTH or DEV_AUTH_ADMIN from (its vars or a --var flag), or null. */
export function devAuthSetting(text, envName, argv) {
  const header = `[env.${envName}.vars]`;
  const start = text.indexOf(header);
  if (start >= 0) {
    const block = text.slice(start + header.length).split(/\n\s*\[/)[0];
    const key = /^\s*(DEV_AUTH(?:_ADMIN)?)\s*=/m.exec(block)?.[1];
    if (key) return `[env.${envName}.vars] ${key}`;
  }
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i] === "--var" ? argv[i + 1] : argv[i].startsWith("--var=") ? argv[i].slice(6) : null;
    if (value && /^DEV_AUTH(_ADMIN)?[:=]/.test(value)) return `--var ${value.split(/[:=]/)[0]}`;
  }
  return null;
}
