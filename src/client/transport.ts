/** HTTP calls to the API: the bearer token, JSON bodies, and errors as ChatError. */
import { ChatError } from "./errors";

export type TokenSource = string | (() => string | Promise<string>);

export interface Transport {
  baseUrl: string;
  request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T>;
  /**
   * A request with a raw body (file bytes) and extra headers; the answer is JSON as with `request`.
   * `onProgress` hears the bytes sent so far as they go (browsers); elsewhere only when done.
   */
  upload<T>(method: string, path: string, body: Blob, headers: Record<string, string>, signal?: AbortSignal, onProgress?: (loaded: number) => void): Promise<T>;
}

/**
 * `fetch` cannot report how much of a request body has gone out, so where
 * XMLHttpRequest exists (browsers) and the app passed no fetch of its own,
 * uploads that want progress use it instead.
 */
export function createTransport(baseUrl: string, token: TokenSource, fetchImpl: typeof fetch, xhrUploads = false): Transport {
  const base = baseUrl.replace(/\/+$/, "");
  return {
    baseUrl: base,
    request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
      const headers: Record<string, string> = body !== undefined ? { "content-type": "application/json" } : {};
      return send<T>(method, path, body === undefined ? undefined : JSON.stringify(body), headers, signal);
    },
    upload<T>(method: string, path: string, body: Blob, headers: Record<string, string>, signal?: AbortSignal, onProgress?: (loaded: number) => void): Promise<T> {
      if (onProgress && xhrUploads && typeof XMLHttpRequest !== "undefined") return sendWithProgress<T>(method, path, body, headers, onProgress, signal);
      return send<T>(method, path, body, headers, signal);
    },
  };

  async function sendWithProgress<T>(
    method: string,
    path: string,
    body: Blob,
    extra: Record<string, string>,
    onProgress: (loaded: number) => void,
    signal?: AbortSignal,
  ): Promise<T> {
    const bearer = `Bearer ${typeof token === "function" ? await token() : token}`;
    if (signal?.aborted) throw new ChatError("cancelled", "request was cancelled");
    const { status, text, retryAfter } = await new Promise<{ status: number; text: string; retryAfter: string | null }>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const abort = () => xhr.abort();
      xhr.open(method, `${base}${path}`);
      for (const [name, value] of Object.entries(extra)) xhr.setRequestHeader(name, value);
      xhr.setRequestHeader("authorization", bearer);
      xhr.upload.onprogress = (event) => onProgress(event.loaded);
      xhr.onload = () => {
        signal?.removeEventListener("abort", abort);
        resolve({ status: xhr.status, text: xhr.responseText, retryAfter: xhr.getResponseHeader("Retry-After") });
      };
      xhr.onerror = () => {
        signal?.removeEventListener("abort", abort);
        reject(new ChatError("network_error", "could not reach the server"));
      };
      xhr.onabort = () => reject(new ChatError("cancelled", "request was cancelled"));
      signal?.addEventListener("abort", abort, { once: true });
      xhr.send(body);
    });
    return answer<T>(status, text, retryAfter);
  }

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
    return answer<T>(res.status, text, res.headers.get("Retry-After"));
  }

  function answer<T>(status: number, text: string, retryAfterHeader: string | null): Promise<T> {
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // A proxy's HTML error page: reported by status below.
    }
    if (status < 200 || status > 299) {
      const error = ChatError.fromBody(json, status);
      const retryAfter = Number(retryAfterHeader);
      return Promise.reject(
        error.retryAfter === undefined && Number.isFinite(retryAfter) && retryAfter > 0
          ? new ChatError(error.code, error.message, error.status, retryAfter, error.details)
          : error,
      );
    }
    return Promise.resolve(json as T);
  }
}
