/**
 * One way to build the edge's OpenAPI apps (the public one and the
 * authenticated sub-app), so that a request that fails its route's schema gets
 * the same 400 invalid_request from either.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { ApiError } from "./errors";

export function apiApp<E extends { Bindings: Env }>(): OpenAPIHono<E> {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
        throw new ApiError("invalid_request", `${where}${issue?.message ?? "invalid request"}`);
      }
    },
  });
}
