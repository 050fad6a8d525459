/** What the route modules share: OpenAPI pieces for their definitions, and the stubs of the objects they call. */
import { z } from "@hono/zod-openapi";
import { ErrorResponse, RoomId } from "../../protocol";

export const RoomParams = z.object({ roomId: RoomId });

const errorContent = { "application/json": { schema: ErrorResponse } };

/** The error answers every authenticated route may give. */
export const errorResponses = {
  400: { description: "invalid_request", content: errorContent },
  401: { description: "unauthorized", content: errorContent },
  403: { description: "forbidden or not_member", content: errorContent },
  404: { description: "room_not_found", content: errorContent },
  429: { description: "rate_limited", content: errorContent },
} as const;

export const json = <T>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** A raw file body (uploads, downloads). */
export const binary = (description: string) => ({
  description,
  content: { "application/octet-stream": { schema: z.string().openapi({ type: "string", format: "binary" }) } },
});

export const bearer = [{ bearerAuth: [] }];

export function roomStub(env: Env, roomId: string) {
  return env.ROOMS.getByName(roomId);
}

export function inboxStub(env: Env, userId: string) {
  return env.INBOXES.getByName(userId);
}
