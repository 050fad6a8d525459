import { describe, expect, it } from "vitest";
import { DEFAULT_ALLOWED_TYPES, MiB, configOf } from "../../../src/kernel/config";

describe("configOf", () => {
  it("gives every default for an empty environment", () => {
    const config = configOf({});
    expect(config.room.replayCap).toBe(5_000);
    expect(config.room.defaultRetentionDays).toBeNull();
    expect(config.user).toEqual({ sendPerMinute: 100, maxConnections: 10, mutationsPerMinute: 120, readsPerMinute: 600 });
    expect(config.media.maxBytes).toBe(25 * MiB);
    expect(config.media.allowedTypes).toEqual(DEFAULT_ALLOWED_TYPES);
    expect(config.auth).toMatchObject({ algorithm: "HS256", adminClaim: "admin", devAuth: false, secret: undefined });
    expect(config.vapid).toBeNull();
    expect(config.logLevel).toBe("info");
    expect(config.allowedOrigins).toEqual([]);
  });

  it("reads set values and falls back on bad ones", () => {
    const config = configOf({ REPLAY_CAP: "7", SLOW_CONSUMER_LAG: "-3", FRAME_BURST: "1.5", MESSAGE_RETENTION_DAYS: "30", DEV_AUTH: "true", LOG_LEVEL: "warn" });
    expect(config.room.replayCap).toBe(7);
    expect(config.room.lagCap).toBe(2_000);
    expect(config.room.frameBurst).toBe(200);
    expect(config.room.defaultRetentionDays).toBe(30);
    expect(config.devAuth).toBe(true);
    expect(config.logLevel).toBe("warn");
  });

  it("treats empty strings as unset and derives the JWT algorithm from a JWKS URL", () => {
    const config = configOf({ AUTH_SECRET: "", AUTH_JWKS_URL: "https://idp.example/jwks", ALLOWED_ORIGINS: " https://a.example, ,https://b.example " });
    expect(config.auth.secret).toBeUndefined();
    expect(config.auth.algorithm).toBe("RS256");
    expect(config.allowedOrigins).toEqual(["https://a.example", "https://b.example"]);
  });

  it("keeps VAPID keys only as a pair", () => {
    expect(configOf({ VAPID_PUBLIC_KEY: "pub" }).vapid).toBeNull();
    expect(configOf({ VAPID_PUBLIC_KEY: "pub", VAPID_PRIVATE_KEY: "priv" }).vapid).toEqual({ subject: "mailto:admin@example.com", publicKey: "pub", privateKey: "priv" });
  });

  it("parses one env object once", () => {
    const env = { REPLAY_CAP: "9" };
    expect(configOf(env)).toBe(configOf(env));
  });

  it("names unsafe auth settings in problems: a JWKS without issuer or audience, a secret under 32 bytes", () => {
    expect(configOf({}).problems).toEqual([]);
    expect(configOf({ AUTH_SECRET: "x".repeat(32) }).problems).toEqual([]);
    expect(configOf({ AUTH_JWKS_URL: "https://idp.example/jwks", AUTH_ISSUER: "https://idp.example", AUTH_AUDIENCE: "edge-chat" }).problems).toEqual([]);
    expect(configOf({ AUTH_JWKS_URL: "https://idp.example/jwks" }).problems).toEqual([
      "AUTH_ISSUER is required with AUTH_JWKS_URL",
      "AUTH_AUDIENCE is required with AUTH_JWKS_URL",
    ]);
    expect(configOf({ AUTH_JWKS_URL: "https://idp.example/jwks", AUTH_ISSUER: "https://idp.example", AUTH_AUDIENCE: "" }).problems).toEqual(["AUTH_AUDIENCE is required with AUTH_JWKS_URL"]);
    expect(configOf({ AUTH_SECRET: "x".repeat(31) }).problems).toEqual(["AUTH_SECRET must be at least 32 bytes"]);
    // Bytes, not characters: 16 two-byte characters are 32 bytes.
    expect(configOf({ AUTH_SECRET: "é".repeat(16) }).problems).toEqual([]);
    expect(configOf({ AUTH_SECRET: "é".repeat(15) }).problems).toEqual(["AUTH_SECRET must be at least 32 bytes"]);
  });

  it("reads DEV_AUTH_ADMIN as a switch that only \"true\" turns on", () => {
    expect(configOf({}).auth.devAuthAdmin).toBe(false);
    expect(configOf({ DEV_AUTH_ADMIN: "1" }).auth.devAuthAdmin).toBe(false);
    expect(configOf({ DEV_AUTH_ADMIN: "true" }).auth.devAuthAdmin).toBe(true);
  });
});
