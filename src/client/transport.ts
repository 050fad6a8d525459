/**
 * HTTP calls to the API: the bearer token, JSON bodies, errors as ChatError,
 * and every answer the SDK uses checked against the protocol's schema, so a
 * wrong shape is an `invalid_response` error rather than a value the app
 * trusts by mistake.
 */
import type { ZodType } from "zod";
import { ChatError } from "./errors";

export type TokenSource = string | (() => string | Promise<string>);

export interface Transport {
  baseUrl: string;
  /** A JSON request whose answer must match `schema`. */
  request<T>(schema: ZodType<T>, method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T>;
  /** A JSON request whose answer is not used: only success or failure matters. */
  call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<void>;
  /**
   * A request with a raw body (file bytes) and extra headers; the answer is checked as with `request`.
   * `onProgress` hears the bytes sent so far as they go (browsers); elsewhere only when done.
   */
  upload<T>(
    schema: ZodType<T>,
    method: string,
    path: string,
    body: Blob,
    headers: Record<string, string>,
    signal?: AbortSignal,
    onProgress?: (loaded: number) => void,
  ): Promise<T>;
}

interface RawAnswer {
  status: number;
  text: string;
  retryAfter: string | null;
}

/**
 * `fetch` cannot report how much of a request body has gone out, so where
 * XMLHttpRequest exists (browsers) and the app passed no fetch of its own,
 * uploads that want progress use it instead.
 */
export function createTransport(baseUrl: string, token: TokenSource, fetchImpl: typeof fetch, xhrUploads = false): Transport {
  const base = baseUrl.replace(/\/+$/, "");
  // No token (a dev sign-in asking for its first one): no authorization header at all.
  const bearer = async () => {
    const value = typeof token === "function" ? await token() : token;
    return value ? `Bearer ${value}` : null;
  };
  const json = (body: unknown): { body: string | undefined; headers: Record<string, string> } =>
    body === undefined ? { body: undefined, headers: {} } : { body: JSON.stringify(body), headers: { "content-type": "application/json" } };
  return {
    baseUrl: base,
    async request<T>(schema: ZodType<T>, method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
      const { body: text, headers } = json(body);
      return shaped(schema, method, path, await send(method, path, text, headers, signal));
    },
    async call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<void> {
      const { body: text, headers } = json(body);
      parse(await send(method, path, text, headers, signal));
    },
    async upload<T>(
      schema: ZodType<T>,
      method: string,
      path: string,
      body: Blob,
      headers: Record<string, string>,
      signal?: AbortSignal,
      onProgress?: (loaded: number) => void,
    ): Promise<T> {
      const raw =
        onProgress && xhrUploads && typeof XMLHttpRequest !== "undefined"
          ? await sendWithProgress(method, path, body, headers, onProgress, signal)
          : await send(method, path, body, headers, signal);
      return shaped(schema, method, path, raw);
    },
  };

  async function sendWithProgress(
    method: string,
    path: string,
    body: Blob,
    extra: Record<string, string>,
    onProgress: (loaded: number) => void,
    signal?: AbortSignal,
  ): Promise<RawAnswer> {
    const authorization = await bearer();
    if (signal?.aborted) throw new ChatError("cancelled", "request was cancelled");
    return new Promise<RawAnswer>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const abort = () => xhr.abort();
      xhr.open(method, `${base}${path}`);
      for (const [name, value] of Object.entries(extra)) xhr.setRequestHeader(name, value);
      if (authorization) xhr.setRequestHeader("authorization", authorization);
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
  }

  async function send(method: string, path: string, body: BodyInit | undefined, extra: Record<string, string>, signal?: AbortSignal): Promise<RawAnswer> {
    const authorization = await bearer();
    const headers: Record<string, string> = authorization ? { ...extra, authorization } : { ...extra };
    let res: Response;
    try {
      res = await fetchImpl(`${base}${path}`, { method, headers, body, signal });
    } catch (error) {
      if (signal?.aborted) throw new ChatError("cancelled", "request was cancelled");
      throw new ChatError("network_error", `could not reach the server: ${String(error)}`);
    }
    try {
      return { status: res.status, text: await res.text(), retryAfter: res.headers.get("Retry-After") };
    } catch (error) {
      // The connection died while the answer was being read: as good as no answer.
      if (signal?.aborted) throw new ChatError("cancelled", "request was cancelled");
      throw new ChatError("network_error", `the connection dropped while reading the answer: ${String(error)}`);
    }
  }
}

/** The JSON of a successful answer; an error answer is thrown as ChatError. */
function parse({ status, text, retryAfter: retryAfterHeader }: RawAnswer): unknown {
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // A proxy's HTML error page: reported by status below.
  }
  if (status >= 200 && status <= 299) return json;
  const error = ChatError.fromBody(json, status);
  const retryAfter = Number(retryAfterHeader);
  throw error.retryAfter === undefined && Number.isFinite(retryAfter) && retryAfter > 0
    ? new ChatError(error.code, error.message, error.status, retryAfter, error.details)
    : error;
}

function shaped<T>(schema: ZodType<T>, method: string, path: string, raw: RawAnswer): T {
  const result = schema.safeParse(parse(raw));
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
  throw new ChatError(
    "invalid_response",
    `the answer to ${method} ${path.split("?")[0]} does not have the expected shape${where}: ${issue?.message ?? "unknown"}`,
    raw.status,
  );
}
