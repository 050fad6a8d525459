/** Files and raw-body requests for the media tests. */
import { SELF, env } from "cloudflare:test";
import { writePngHeader } from "../unit/media/images";

export const BASE = "https://localhost";
export const MiB = 1024 * 1024;

function random(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

/** A PNG of `size` bytes (at least 64): a real signature and IHDR with the given dimensions, then noise. */
export function png(size: number, width = 640, height = 480): Uint8Array {
  return writePngHeader(random(Math.max(size, 64)), width, height);
}

/** A minimal PDF header followed by noise. */
export function pdf(size: number): Uint8Array {
  const bytes = random(size);
  bytes.set(new TextEncoder().encode("%PDF-1.7\n"), 0);
  return bytes;
}

export const html = () => new TextEncoder().encode("<!doctype html><html><body><script>alert(document.cookie)</script></body></html>\n".repeat(4));

export async function upload(token: string, roomId: string, data: Uint8Array | ReadableStream<Uint8Array>, opts: { filename?: string; contentType?: string; headers?: Record<string, string> } = {}) {
  const res = await SELF.fetch(`${BASE}/api/rooms/${roomId}/media`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": opts.contentType ?? "application/octet-stream",
      "x-filename": encodeURIComponent(opts.filename ?? "file.bin"),
      ...(opts.headers ?? {}),
    },
    body: data as BodyInit,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

export async function put(token: string, path: string, data: Uint8Array | ReadableStream<Uint8Array>) {
  const res = await SELF.fetch(`${BASE}${path}`, { method: "PUT", headers: { authorization: `Bearer ${token}` }, body: data as BodyInit });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function download(path: string, opts: { token?: string; headers?: Record<string, string>; method?: string } = {}) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await SELF.fetch(`${BASE}${path}`, { headers, method: opts.method ?? "GET" });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** Every object key R2 holds for a room. */
export async function roomObjects(roomId: string): Promise<string[]> {
  const prefix = `rooms/${env.ROOMS.idFromName(roomId).toString()}/`;
  const listing = await env.MEDIA.list({ prefix });
  return listing.objects.map((o) => o.key);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
