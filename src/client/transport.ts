/** HTTP calls to the API: the bearer token, JSON bodies, and errors as ChatError. */
import { ChatError } from "./errors";

export type TokenSource = string | (() => string | Promise<string>);

export interface Transport {
  baseUrl: string;
  request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T>;
  /** A request with a raw body (file bytes) and extra headers; the answer is JSON as with `request`. */
  upload<T>(method: string, path: string, body: Blob, headers: Record<string, string>, signal?: AbortSignal): Promise<T>;
}

export function createTransport(baseUrl: string, token: TokenSource, fetchImpl: typeof fetch): Transport {
  const base = baseUrl.replace(/\/+$/, "");
  return {
    baseUrl: base,
    request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
      const headers: Record<string, string> = body !== undefined ? { "content-type": "application/json" } : {};
      return send<T>(method, path, body === undefined ? undefined : JSON.stringify(body), headers, signal);
    },
    upload<T>(method: string, path: string, body: Blob, headers: Record<string, string>, signal?: AbortSignal): Promise<T> {
      return send<T>(method, path, body, headers, signal);
    },
  };

  async function send<T>(method: string, path: string, body: BodyInit | undefined, extra: Record<string, string>, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { ...extra, authorization: `Bearer ${typeof token === "function" ? await token() : token}` };
    let res: Response;
    try {
      res = await fetchImpl(`${base}${path}`, { method, headers, body, signal });
    } catch (error) {
      if (signal?.aborted) throw new ChatError("cancelled", "request was cancelled");
      throw new ChatError("network_error", `could not reach the server: ${String(error)}`);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (error) {
      // The connection died while the answer was being read: as good as no answer.
      if (signal?.aborted) throw new ChatError("cancelled", "request was cancelled");
      throw new ChatError("network_error", `the connection dropped while reading the answer: ${String(error)}`);
    }
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // A proxy's HTML error page: reported by status below.
    }
    if (!res.ok) {
      const error = ChatError.fromBody(json, res.status);
      const retryAfter = Number(res.headers.get("Retry-After"));
      return Promise.reject(
        error.retryAfter === undefined && Number.isFinite(retryAfter) && retryAfter > 0
          ? new ChatError(error.code, error.message, error.status, retryAfter, error.details)
          : error,
      );
    }
    return json as T;
  }
}
