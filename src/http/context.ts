import type { Identity } from "../auth/tokens";

export interface AppEnv {
  Bindings: Env;
  /** `requestId`: names the request in logs and in the X-Request-Id answer header. */
  Variables: { identity: Identity; requestId: string };
}
