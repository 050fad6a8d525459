/**
 * Connect tickets: browsers cannot set headers on a WebSocket upgrade, and a
 * long-lived token in a URL ends up in logs. So a client trades its token for
 * a ticket over authenticated HTTP, and opens the socket with the ticket. A
 * ticket is random, bound to one user and this room, valid for a short time
 * and consumed by its first use; the room is the one place that can make
 * "first use" exact.
 */
import { bytesToBase64url } from "./base64url";

export const TICKET_TTL_MS = 60_000;

export function issueTicket(sql: SqlStorage, userId: string, now: number, tokenExp: number | null = null): { ticket: string; expiresTs: number } {
  sql.exec("DELETE FROM tickets WHERE expires_ts <= ?", now);
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  const ticket = bytesToBase64url(bytes);
  const expiresTs = now + TICKET_TTL_MS;
  sql.exec("INSERT INTO tickets (ticket, user_id, expires_ts, token_exp) VALUES (?, ?, ?, ?)", ticket, userId, expiresTs, tokenExp);
  return { ticket, expiresTs };
}

/** The user the ticket was issued to (and their token's expiry), if it is valid; the ticket is spent either way. */
export function consumeTicket(sql: SqlStorage, ticket: string, now: number): { userId: string; tokenExp: number | null } | null {
  const row = sql
    .exec<{ user_id: string; expires_ts: number; token_exp: number | null }>(
      "DELETE FROM tickets WHERE ticket = ? RETURNING user_id, expires_ts, token_exp",
      ticket,
    )
    .toArray()[0];
  if (!row || row.expires_ts <= now) return null;
  return { userId: row.user_id, tokenExp: row.token_exp };
}

/** Every ticket of this object is void (a purged room). */
export function clearTickets(sql: SqlStorage): void {
  sql.exec("DELETE FROM tickets");
}

/**
 * Whether `value` has the shape `issueTicket` gives a ticket (24 random bytes,
 * base64url: 32 characters). The Worker refuses anything else before it asks
 * an object, so a guessed name never brings a room or inbox into being.
 */
export function isTicketShaped(value: string | undefined): value is string {
  return value !== undefined && /^[A-Za-z0-9_-]{32}$/.test(value);
}
