/**
 * Who is signed in: a bearer token kept in sessionStorage (per tab, gone when
 * the tab closes), and the user id read from its `sub`. The token is checked
 * by the server on every call; reading `sub` here is only for display.
 */
import { ChatClient } from "../client";
import { errorText } from "./errors";

const STORAGE_KEY = "edge-chat.token";

export interface Session {
  token: string;
  userId: string;
}

export function loadSession(): Session | null {
  const token = sessionStorage.getItem(STORAGE_KEY);
  if (!token) return null;
  const claims = readClaims(token);
  if (!claims || (claims.exp !== undefined && claims.exp * 1000 < Date.now())) {
    sessionStorage.removeItem(STORAGE_KEY);
    return null;
  }
  return { token, userId: claims.sub };
}

/** Stores a token; returns the session, or an explanation of why the token is unusable. */
export function saveSession(token: string): Session | string {
  const trimmed = token.trim();
  const claims = readClaims(trimmed);
  if (!claims) return "That does not look like a chat token (a JWT with a user id in `sub`).";
  if (claims.exp !== undefined && claims.exp * 1000 < Date.now()) return "That token has expired.";
  sessionStorage.setItem(STORAGE_KEY, trimmed);
  return { token: trimmed, userId: claims.sub };
}

export function clearSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** Dev auth (`npm start`): the server hands out a token for any user name. */
export async function devToken(userId: string): Promise<string> {
  try {
    return await ChatClient.devToken(location.origin, userId);
  } catch (error) {
    throw new Error(errorText("sign-in", error));
  }
}

function readClaims(token: string): { sub: string; exp?: number } | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "="));
    const claims = JSON.parse(json) as { sub?: unknown; exp?: unknown };
    if (typeof claims.sub !== "string" || claims.sub.length === 0) return null;
    return { sub: claims.sub, exp: typeof claims.exp === "number" ? claims.exp : undefined };
  } catch {
    return null;
  }
}
