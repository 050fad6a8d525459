/**
 * The browser origins allowed to open sockets and call the API, from
 * ALLOWED_ORIGINS (comma separated; "*" allows any). A request with no Origin
 * header is not from a browser page (a native app, a server) and is allowed:
 * the Origin check exists to stop other sites from riding a user's session.
 */
export function allowedOrigins(env: Env): string[] {
  const raw = (env as unknown as Record<string, string | undefined>).ALLOWED_ORIGINS ?? "";
  return raw
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
}

export function originAllowed(origin: string | undefined, allowed: string[]): boolean {
  if (origin === undefined) return true;
  return allowed.includes("*") || allowed.includes(origin);
}
