/** HTTP calls to the API: the bearer token, JSON bodies, and errors as ChatError. */
import { ChatError } from "./errors";

export type TokenSource = string | (() => string | Promise<string>);

export interface Transport {
  baseUrl: string;
  request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T>;
}

export function createTransport(baseUrl: string, token: TokenSource, fetchImpl: typeof fetch): Transport {
  const base = baseUrl.replace(/\/+$/, "");
  return {
    baseUrl: base,
    async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
      const headers: Record<string, string> = { authorization: `Bearer ${typeof token === "function" ? await token() : token}` };
      if (body !== undefined) headers["content-type"] = "application/json";
      let res: Response;
      try {
        res = await fetchImpl(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
      } catch (error) {
        if (signal?.aborted) throw new ChatError("cancelled", "request was cancelled");
        throw new ChatError("network_error", `could not reach the server: ${String(error)}`);
      }
      let text: string;
      try {
        text = await res.text();
      } catch (error) {
        // The connection dropped mid-body (undici: "TypeError: terminated", e.g. the server
        // was killed while answering): as retryable as a failed request.
        if (signal?.aborted) throw new ChatError("cancelled", "request was cancelled");
        throw new ChatError("network_error", `connection lost while reading the answer: ${String(error)}`);
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
    },
  };
}
