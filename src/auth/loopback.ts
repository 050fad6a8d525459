/**
 * Whether a request's host names this machine: `localhost` and its
 * subdomains (RFC 6761 keeps them on the loopback interface), 127.0.0.0/8 and
 * ::1. Dev tokens are served only to such hosts, so a deployment that has
 * DEV_AUTH set by mistake does not hand them out to the internet.
 */

/** `hostname` as a URL gives it (`new URL(...).hostname`: lower case, IPv6 in brackets). */
export function isLoopbackHost(hostname: string): boolean {
  // A fully qualified name may end with a dot; it names the same host.
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  // ::1, or 127.0.0.0/8 written as an IPv4-mapped IPv6 address.
  if (host === "[::1]" || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host)) return true;
  // The URL parser has already turned 127.1, 0x7f.1 and the like into dotted decimal.
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
