/** ChatClient.devToken: a dev sign-in (npm start) asks for a token without one, and checks the answer like every other. */
import { expect, it } from "vitest";
import { ChatClient, ChatError } from "../../src/client";
import { BASE_URL, errorAnswer, fakeServer, json } from "./fakes";

it("posts the user id without an authorization header and resolves the token", async () => {
  const server = fakeServer();
  const seen: Array<string | null> = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    seen.push(new Headers(init?.headers).get("authorization"));
    return server.fetch(input, init);
  };
  server.on("POST", "/api/dev/token", (r) => json({ token: `tok-${(r.body as { userId: string }).userId}` }));
  await expect(ChatClient.devToken(BASE_URL, "alice", { fetch })).resolves.toBe("tok-alice");
  expect(server.requests[0]?.body).toEqual({ userId: "alice" });
  expect(seen).toEqual([null]);
});

it("rejects with the server's code where dev auth is off, and with invalid_response on a wrong shape", async () => {
  const off = fakeServer();
  off.on("POST", "/api/dev/token", () => errorAnswer("not_found", 404));
  await expect(ChatClient.devToken(BASE_URL, "alice", { fetch: off.fetch })).rejects.toMatchObject({ code: "not_found" });
  const odd = fakeServer();
  odd.on("POST", "/api/dev/token", () => json({ token: 42 }));
  const error = await ChatClient.devToken(BASE_URL, "alice", { fetch: odd.fetch }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ChatError);
  expect((error as ChatError).code).toBe("invalid_response");
});
