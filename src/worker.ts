/** Entry point: the Worker (HTTP API and WebSocket routing) and the Durable Object classes. */
import { createApp } from "./http/app";

export { Room } from "./room/room";
export { UserLimits } from "./user/limits";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
