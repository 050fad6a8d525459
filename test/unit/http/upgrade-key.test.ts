/** The per-IP upgrade limit counts an IPv6 client by its /64, whatever the address's spelling. */
import { describe, expect, it } from "vitest";
import { limitKeyOf } from "../../../src/http/upgrade-limit";

describe("limitKeyOf", () => {
  it("keys every address of one /64 alike, and the next /64 apart", () => {
    const same = ["2001:db8:abcd:12::1", "2001:0DB8:ABCD:0012:ffff:0:0:2", "2001:db8:abcd:12:1:2:3:4", "[2001:db8:abcd:12::9]", "2001:db8:abcd:12::1%eth0", "2001:db8:abcd:12:0:0:1.2.3.4"];
    expect(new Set(same.map(limitKeyOf))).toEqual(new Set(["2001:db8:abcd:12::/64"]));
    expect(limitKeyOf("2001:db8:abcd:13::1")).toBe("2001:db8:abcd:13::/64");
    expect(limitKeyOf("::1")).toBe("0:0:0:0::/64");
    expect(limitKeyOf("2001:db8::")).toBe("2001:db8:0:0::/64");
  });

  it("leaves IPv4 as it is, and reads an IPv4-mapped address as its IPv4 address", () => {
    expect(limitKeyOf("192.0.2.7")).toBe("192.0.2.7");
    expect(limitKeyOf("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(limitKeyOf("::ffff:c000:207")).toBe("192.0.2.7");
  });

  it("keys what is not an address by its own text", () => {
    for (const junk of ["1::2::3", "garbage:::x", "1:2:3:4:5:6:7:8:9", "12345::1"]) expect(limitKeyOf(junk)).toBe(junk);
  });
});
