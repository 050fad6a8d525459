/**
 * Whether a browser origin may open sockets and call the API, from
 * ALLOWED_ORIGINS (comma separated; "*" allows any). A request with no Origin
 * header is not from a browser page (a native app, a server) and is allowed:
 * the Origin check exists to stop other sites from riding a user's session.
 */
export function originAllowed(origin: string | undefined, allowed: string[]): boolean {
  if (origin === undefined) return true;
  return allowed.includes("*") || allowed.includes(origin);
}
