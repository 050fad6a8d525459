/** Which hosts count as this machine for dev tokens (src/auth/loopback.ts), as `new URL(...).hostname` gives them. */
import { describe, expect, it } from "vitest";
import { isLoopbackHost } from "../../../src/auth/loopback";

const host = (url: string) => new URL(url).hostname;

describe("isLoopbackHost", () => {
  it.each(["http://localhost", "http://LocalHost:8787", "http://localhost.", "https://app.localhost", "http://127.0.0.1:8787", "http://127.255.0.9", "http://127.1", "http://0x7f.1", "http://[::1]:8787", "http://[::ffff:127.0.0.1]"])(
    "accepts %s",
    (url) => expect(isLoopbackHost(host(url))).toBe(true),
  );

  it.each(["https://chat.example", "http://localhost.example", "http://mylocalhost", "http://127.0.0.1.nip.io", "http://128.0.0.1", "http://10.0.0.1", "http://0.0.0.0", "http://[::2]", "http://[::ffff:10.0.0.1]", "http://[fe80::1]"])(
    "refuses %s",
    (url) => expect(isLoopbackHost(host(url))).toBe(false),
  );
});
