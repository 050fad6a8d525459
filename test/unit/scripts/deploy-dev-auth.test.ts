/** `npm run deploy` refuses a configuration that switches dev auth on, before it builds or touches an account. */
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";

const deploy = (...args: string[]) => spawnSync(process.execPath, ["scripts/deploy.mjs", "--env", "production", "--dry-run", "--outdir", "/nonexistent/never-built", ...args], { encoding: "utf8" });

it.each([["--var", "DEV_AUTH:true"], ["--var=DEV_AUTH_ADMIN:true"]])("refuses %s %s", (...flag) => {
  const result = deploy(...flag.filter(Boolean));
  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(/switches dev auth on/);
});
