/**
 * The hono environments of the HTTP edge. Every request carries a request id;
 * only requests of the authenticated sub-app (src/http/authenticated.ts) are
 * sure to carry an identity, so only its routes are typed with one.
 */
import type { Identity } from "../auth/tokens";

/** Every request. `requestId` names it in logs and in the X-Request-Id answer header. */
export interface AppEnv {
  Bindings: Env;
  /** `identity`: set on a public route only where that route asked for a bearer token itself. */
  Variables: { requestId: string; identity?: Identity };
}

/** Requests of the authenticated sub-app: `requireUser` has set the caller's identity. */
export interface AuthedEnv {
  Bindings: Env;
  Variables: { requestId: string; identity: Identity };
}
